"""The migrate Lambda: custom resource requests answered to a local ResponseURL, a fresh PostgreSQL database,
and the admin key secret in a moto server."""

import importlib
import json
import os
import socket
import uuid
from collections.abc import Iterator
from types import ModuleType

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.orm import Session

from tarroitus.db import reset_engines
from tarroitus.domain import ClientRole
from tarroitus.migrate import current_revision, head_revision
from tarroitus.models import Client
from tarroitus.services.clients import authenticate
from tarroitus.settings import DEVELOPMENT_PEPPER, get_settings
from tests import database
from tests.custom_resources import custom_resource_event, response_url_server
from tests.events import FakeLambdaContext

REGION = "eu-north-1"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server on 127.0.0.1 standing in for Secrets Manager."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def scratch_engine() -> Iterator[Engine]:
    """An empty database of its own: the migrate function creates the schema in it."""
    name = f"tarroitus_migrate_{os.getpid()}"
    admin = create_engine(database.sqlalchemy_url(database.admin_uri(), "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine = create_engine(database.sqlalchemy_url(database.admin_uri(), name))
    yield engine
    engine.dispose()
    reset_engines()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def admin_secret(moto_endpoint: str) -> str:
    """The admin key secret as the template creates it: a name, no key yet."""
    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint)
    created = client.create_secret(Name=f"admin-api-key-{uuid.uuid4()}", SecretString=json.dumps({"name": "admin"}))
    return created["ARN"]


@pytest.fixture
def migrate_handler(
    scratch_engine: Engine, moto_endpoint: str, admin_secret: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """The handler with its environment pointing at the scratch database and the moto server."""
    monkeypatch.setenv("DATABASE_URL", scratch_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("ADMIN_API_KEY_SECRET_ARN", admin_secret)
    get_settings.cache_clear()
    yield importlib.import_module("functions.migrate.handler")
    get_settings.cache_clear()
    reset_engines()


def _secret(arn: str, endpoint: str) -> dict[str, str]:
    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=endpoint)
    value: dict[str, str] = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    return value


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_migrate_handler_create_upgrades_an_empty_database_and_answers_success(
    migrate_handler: ModuleType, scratch_engine: Engine
) -> None:
    # Given
    assert current_revision(scratch_engine) is None
    with response_url_server() as recorder:
        event = custom_resource_event("Create", response_url=recorder.url)
        # When
        answer = migrate_handler.lambda_handler(event, FakeLambdaContext())
    # Then
    assert [put.body for put in recorder.puts] == [answer]
    body = recorder.puts[0].body
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "tarroitus-database-schema"
    assert body["RequestId"] == event["RequestId"]
    assert body["StackId"] == event["StackId"]
    assert body["LogicalResourceId"] == event["LogicalResourceId"]
    assert body["Data"]["revision"] == head_revision() == current_revision(scratch_engine)
    assert {"items", "clients", "writeback_queue"} <= set(inspect(scratch_engine).get_table_names())


def test_migrate_handler_writes_a_new_admin_key_into_the_secret_and_installs_it(
    migrate_handler: ModuleType, scratch_engine: Engine, admin_secret: str, moto_endpoint: str
) -> None:
    # Given: the secret holds only the client's name
    with response_url_server() as recorder:
        event = custom_resource_event("Create", response_url=recorder.url)
        # When
        migrate_handler.lambda_handler(event, FakeLambdaContext())
    # Then
    secret = _secret(admin_secret, moto_endpoint)
    assert secret["name"] == "admin"
    assert secret["api_key"].startswith("trt_")
    assert recorder.puts[0].body["Data"]["admin_client"] == "created"
    with Session(scratch_engine) as session:
        client = authenticate(session, api_key=secret["api_key"], pepper=DEVELOPMENT_PEPPER)
        assert client is not None
        assert (client.name, client.role) == ("admin", ClientRole.ADMIN)


def test_migrate_handler_installs_the_key_an_operator_put_in_the_secret(
    migrate_handler: ModuleType, scratch_engine: Engine, admin_secret: str, moto_endpoint: str
) -> None:
    # Given
    chosen = {"name": "library-admin", "api_key": "operator-chosen-key-0123456789abcdef"}
    secrets = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint)
    secrets.put_secret_value(SecretId=admin_secret, SecretString=json.dumps(chosen))
    # When
    summary = migrate_handler.lambda_handler({"action": "migrate"}, FakeLambdaContext())
    # Then
    assert summary["admin_client"] == "created"
    assert _secret(admin_secret, moto_endpoint) == chosen
    with Session(scratch_engine) as session:
        client = authenticate(session, api_key=chosen["api_key"], pepper=DEVELOPMENT_PEPPER)
        assert client is not None and client.name == "library-admin"


def test_migrate_handler_update_again_changes_nothing(
    migrate_handler: ModuleType, scratch_engine: Engine, admin_secret: str, moto_endpoint: str
) -> None:
    # Given: a first deploy
    with response_url_server() as recorder:
        migrate_handler.lambda_handler(custom_resource_event("Create", response_url=recorder.url), FakeLambdaContext())
        key = _secret(admin_secret, moto_endpoint)["api_key"]
        # When: the next deploy's Update
        migrate_handler.lambda_handler(custom_resource_event("Update", response_url=recorder.url), FakeLambdaContext())
    # Then
    assert [put.body["Status"] for put in recorder.puts] == ["SUCCESS", "SUCCESS"]
    assert recorder.puts[1].body["Data"] == {"revision": head_revision(), "admin_client": "unchanged"}
    assert _secret(admin_secret, moto_endpoint)["api_key"] == key
    with Session(scratch_engine) as session:
        assert session.query(Client).count() == 1


def test_migrate_handler_answers_failed_when_the_database_is_unreachable(
    migrate_handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://tarroitus@127.0.0.1:{_closed_port()}/tarroitus")
    get_settings.cache_clear()
    with response_url_server() as recorder:
        event = custom_resource_event("Update", response_url=recorder.url, physical_resource_id="schema-7")
        # When: it answers instead of raising
        answer = migrate_handler.lambda_handler(event, FakeLambdaContext(log_stream_name="2026/11/23/[$LATEST]f00d"))
    # Then
    assert answer["Status"] == "FAILED"
    assert [put.body["Status"] for put in recorder.puts] == ["FAILED"]
    body = recorder.puts[0].body
    assert "OperationalError" in body["Reason"]
    assert "[$LATEST]f00d" in body["Reason"]
    assert body["PhysicalResourceId"] == "schema-7"


def test_migrate_handler_answers_failed_when_the_settings_are_invalid(
    migrate_handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a production environment without its secrets
    monkeypatch.setenv("ENV", "prod")
    get_settings.cache_clear()
    with response_url_server() as recorder:
        # When
        migrate_handler.lambda_handler(custom_resource_event("Create", response_url=recorder.url), FakeLambdaContext())
    # Then
    assert [put.body["Status"] for put in recorder.puts] == ["FAILED"]
    assert "ValidationError" in recorder.puts[0].body["Reason"]


def test_migrate_handler_delete_answers_success_and_keeps_the_schema(
    migrate_handler: ModuleType, scratch_engine: Engine
) -> None:
    # Given: a migrated database
    migrate_handler.lambda_handler({"action": "migrate"}, FakeLambdaContext())
    with response_url_server() as recorder:
        event = custom_resource_event("Delete", response_url=recorder.url)
        # When
        migrate_handler.lambda_handler(event, FakeLambdaContext())
    # Then
    assert [put.body["Status"] for put in recorder.puts] == ["SUCCESS"]
    assert current_revision(scratch_engine) == head_revision()
    assert "items" in inspect(scratch_engine).get_table_names()


def test_migrate_handler_leaves_a_database_migrated_by_newer_code(
    migrate_handler: ModuleType, scratch_engine: Engine
) -> None:
    # Given: a rollback, where the previous code answers after a newer release migrated
    migrate_handler.lambda_handler({"action": "migrate"}, FakeLambdaContext())
    with scratch_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with response_url_server() as recorder:
        # When
        migrate_handler.lambda_handler(custom_resource_event("Update", response_url=recorder.url), FakeLambdaContext())
    # Then
    assert recorder.puts[0].body["Status"] == "SUCCESS"
    assert recorder.puts[0].body["Data"]["revision"] == "9999_from_the_future"
    assert current_revision(scratch_engine) == "9999_from_the_future"


def test_migrate_handler_manual_invoke_returns_the_revision(
    migrate_handler: ModuleType, scratch_engine: Engine
) -> None:
    # Given / When
    summary = migrate_handler.lambda_handler({"action": "migrate"}, FakeLambdaContext())
    # Then
    assert summary["revision"] == head_revision() == current_revision(scratch_engine)


def test_migrate_handler_refuses_an_unknown_event(migrate_handler: ModuleType) -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="action"):
        migrate_handler.lambda_handler({"action": "drop-everything"}, FakeLambdaContext())
