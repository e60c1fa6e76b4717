"""The test database: a configured server (TEST_DATABASE_URL) or the embedded one, one fresh database per run."""

import os
from pathlib import Path

import psycopg
from psycopg import sql

from tarroitus.embedded_db import start_embedded_server

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_DATA_DIR = PROJECT_ROOT / ".data" / "test-postgres"
TEST_DATABASE_PREFIX = "tarroitus_test_"


def admin_uri() -> str:
    """A libpq URI to the maintenance database of the test server."""
    configured = os.environ.get("TEST_DATABASE_ADMIN_URL")
    if configured:
        return configured
    return str(start_embedded_server(TEST_DATA_DIR).get_uri("postgres"))


def create_run_database() -> str:
    """Create an empty database for this test process and return its SQLAlchemy URL."""
    uri = admin_uri()
    name = f"{TEST_DATABASE_PREFIX}{os.getpid()}"
    with psycopg.connect(uri, autocommit=True) as conn:
        drop_abandoned_databases(conn)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return sqlalchemy_url(uri, name)


def drop_run_database() -> None:
    """Drop this process's database."""
    name = f"{TEST_DATABASE_PREFIX}{os.getpid()}"
    with psycopg.connect(admin_uri(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def drop_abandoned_databases(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Drop test databases left by killed runs (their pid no longer exists)."""
    rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (TEST_DATABASE_PREFIX + "%",))
    for (name,) in rows.fetchall():
        pid = str(name).removeprefix(TEST_DATABASE_PREFIX)
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name))))


def sqlalchemy_url(libpq_uri: str, database: str) -> str:
    """Swap the database name in a libpq URI and pin the psycopg driver."""
    info = psycopg.conninfo.conninfo_to_dict(libpq_uri)
    host = info.get("host", "")
    port = info.get("port")
    user = info.get("user", "postgres")
    password = info.get("password") or ""
    if str(host).startswith("/"):
        return f"postgresql+psycopg://{user}:{password}@/{database}?host={host}" + (f"&port={port}" if port else "")
    return f"postgresql+psycopg://{user}:{password}@{host}:{port or 5432}/{database}"
