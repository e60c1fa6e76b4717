"""Fixtures shared by every suite: environment, a real PostgreSQL database, sessions, the API client.

The environment is set before any test module imports a handler, since handlers read settings at
import on purpose (a misconfigured Lambda fails its cold start).
"""

import os
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from tarroitus import models
from tarroitus.api.app import create_app
from tarroitus.db import Base, reset_engines
from tarroitus.migrate import upgrade_to_head
from tarroitus.settings import Settings, get_settings
from tests import database
from tests.api_helpers import share_session

pytest_plugins = ["tests.sierra_fixtures"]

TEST_ENVIRONMENT = {
    "ENV": "test",
    "LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "tarroitus",
    "POWERTOOLS_METRICS_NAMESPACE": "Tarroitus",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "AWS_DEFAULT_REGION": "eu-north-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "XDG_RUNTIME_DIR": "/tmp",
}


def pytest_configure(config: pytest.Config) -> None:
    """Point the whole run at its own fresh, migrated database."""
    for name, value in TEST_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if not hasattr(config, "workerinput"):
        os.environ["DATABASE_URL"] = database.create_run_database()
    get_settings.cache_clear()
    engine = create_engine(os.environ["DATABASE_URL"])
    upgrade_to_head(engine)
    engine.dispose()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop the run's database."""
    reset_engines()
    if not hasattr(config, "workerinput") and os.environ.get("DATABASE_URL"):
        database.drop_run_database()


@pytest.fixture
def settings() -> Iterator[Settings]:
    """The test settings, parsed fresh for each test."""
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """An engine on the run's migrated database."""
    engine = create_engine(os.environ["DATABASE_URL"], connect_args={"prepare_threshold": None})
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture
def app(settings: Settings, db_session: Session) -> FastAPI:
    """The app with every request sharing the test's rolled-back session."""
    return share_session(create_app(settings), db_session)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A TestClient on the app (raises nothing server-side: errors come back as responses)."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def committed_db(engine: Engine) -> Iterator[Engine]:
    """For tests whose code commits through its own engine (handlers, jobs): empty every table afterwards."""
    yield engine
    reset_engines()
    assert models  # registers every table on Base.metadata
    tables = ", ".join(f'"{name}"' for name in Base.metadata.tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
