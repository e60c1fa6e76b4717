"""The sync Lambda handler and POST /api/v1/sync/run (in-process locally, Lambda invoke in AWS via moto)."""

import importlib
import io
import json
import socket
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.domain import SYNC_JOB_NAME, ClientRole
from tarroitus.models import Item, JobRun, JobState
from tarroitus.services.clients import register_client
from tarroitus.settings import Settings, get_settings
from tests import moto_fixtures
from tests.events import FakeLambdaContext, scheduler_event
from tests.sierra_fixtures import RunningSimulator

moto_server = moto_fixtures.moto_server

FUNCTION_NAME = "tarroitus-sierra-sync"


def item_count(engine: Engine) -> int:
    """Rows in items."""
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Item)) or 0)


@pytest.fixture
def sync_handler(sierra_simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The sync Lambda's handler module, imported with settings that point at the simulator."""
    monkeypatch.setenv("SIERRA_API_ENDPOINT", sierra_simulator.base_url)
    monkeypatch.setenv("SIERRA_API_CLIENT_KEY", sierra_simulator.config.client_key)
    monkeypatch.setenv("SIERRA_API_CLIENT_SECRET", sierra_simulator.config.client_secret)
    get_settings.cache_clear()
    module = importlib.reload(importlib.import_module("functions.sierra_sync.handler"))
    yield module
    get_settings.cache_clear()


def test_sync_handler_runs_a_full_pass_then_a_manual_changes_pass(
    committed_db: Engine, sync_handler: ModuleType, sierra_simulator: RunningSimulator
) -> None:
    # Given
    context = FakeLambdaContext(remaining_millis=300_000)
    # When
    scheduled = sync_handler.lambda_handler(scheduler_event(), context)
    manual = sync_handler.lambda_handler({"mode": "changes"}, context)
    # Then
    assert (scheduled["outcome"], scheduled["mode"], scheduled["items_read"]) == ("succeeded", "full", 2000)
    assert (manual["outcome"], manual["mode"]) == ("succeeded", "changes")
    assert item_count(committed_db) == sierra_simulator.store.item_count


def test_sync_handler_stops_inside_a_short_budget(committed_db: Engine, sync_handler: ModuleType) -> None:
    # Given: less time left than the safety margin
    context = FakeLambdaContext(remaining_millis=5_000)
    # When
    result = sync_handler.lambda_handler(scheduler_event(), context)
    # Then
    assert (result["outcome"], result["pages"]) == ("partial", 0)
    assert item_count(committed_db) == 0


def admin_client(engine: Engine, settings: Settings) -> TestClient:
    """A TestClient on a fresh app (real sessions, committed) with an admin key."""
    with Session(engine) as session, session.begin():
        issued = register_client(
            session, name="admin", role=ClientRole.ADMIN, pepper=settings.api_key_pepper.get_secret_value()
        )
    return TestClient(create_app(settings), raise_server_exceptions=False, headers={"X-API-Key": issued.api_key})


def test_sync_run_endpoint_runs_in_process_locally(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given
    local = settings.model_copy(
        update={
            "sierra_api_endpoint": sierra_simulator.base_url,
            "sierra_api_client_key": sierra_simulator.config.client_key,
            "sierra_api_client_secret": sierra_simulator.config.client_secret,
        }
    )
    # When
    with admin_client(committed_db, local) as client:
        response = client.post("/api/v1/sync/run")
        status = client.get("/api/v1/sync").json()
    # Then
    assert (response.status_code, response.json()) == (202, {"mode": None, "target": "in_process"})
    assert item_count(committed_db) == sierra_simulator.store.item_count
    assert status["mode"] == "changes"
    assert status["recent_runs"][0]["outcome"] == "succeeded"


def test_sync_run_endpoint_refuses_while_a_run_holds_the_lease(committed_db: Engine, settings: Settings) -> None:
    # Given
    with Session(committed_db) as session, session.begin():
        session.add(
            JobState(
                job_name=SYNC_JOB_NAME, lease_owner="other", lease_expires_at=datetime.now(UTC) + timedelta(minutes=5)
            )
        )
    # When
    with admin_client(committed_db, settings) as client:
        response = client.post("/api/v1/sync/run", json={"mode": "full"})
    # Then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sync_running"
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 0


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """The session's moto server, with Lambda invocations that do not need Docker."""
    request = urllib.request.Request(
        f"{moto_server}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()
    return moto_server


def create_sync_function(endpoint: str, function_name: str) -> None:
    """The sync function as the deployment creates it (code irrelevant: moto does not run it)."""
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="eu-north-1")
    role = iam.create_role(
        RoleName=f"sync-role-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("handler.py", "def lambda_handler(event, context):\n    return event\n")
    boto3.client("lambda", endpoint_url=endpoint, region_name="eu-north-1").create_function(
        FunctionName=function_name,
        Runtime="python3.13",
        Role=role,
        Handler="handler.lambda_handler",
        Code={"ZipFile": archive.getvalue()},
    )


def test_sync_run_endpoint_invokes_the_sync_lambda_in_aws(
    committed_db: Engine, settings: Settings, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given
    function_name = f"{FUNCTION_NAME}-{uuid.uuid4().hex[:8]}"
    create_sync_function(moto_endpoint, function_name)
    aws = settings.model_copy(update={"sync_function_name": function_name, "aws_endpoint_url": moto_endpoint})
    unreachable = settings.model_copy(
        update={"sync_function_name": FUNCTION_NAME, "aws_endpoint_url": f"http://127.0.0.1:{closed_port()}"}
    )
    invocations: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        invocations.append(params)

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("provide-client-params.lambda.Invoke", capture)
    # When
    with admin_client(committed_db, aws) as client:
        response = client.post("/api/v1/sync/run", json={"mode": "full"})
    with admin_client_named(committed_db, unreachable, "admin-2") as client:
        failed = client.post("/api/v1/sync/run")
    # Then
    assert (response.status_code, response.json()) == (202, {"mode": "full", "target": "lambda"})
    assert [(call["FunctionName"], call["InvocationType"]) for call in invocations[:1]] == [(function_name, "Event")]
    assert json.loads(invocations[0]["Payload"]) == {"mode": "full"}
    assert failed.status_code == 503
    assert item_count(committed_db) == 0


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def admin_client_named(engine: Engine, settings: Settings, name: str) -> TestClient:
    """Like admin_client, with another client name."""
    with Session(engine) as session, session.begin():
        issued = register_client(
            session, name=name, role=ClientRole.ADMIN, pepper=settings.api_key_pepper.get_secret_value()
        )
    return TestClient(create_app(settings), raise_server_exceptions=False, headers={"X-API-Key": issued.api_key})


def test_sync_handler_releases_the_lease_and_records_the_run(committed_db: Engine, sync_handler: ModuleType) -> None:
    # Given / When
    sync_handler.lambda_handler(scheduler_event(), FakeLambdaContext(remaining_millis=300_000))
    # Then
    with Session(committed_db) as session:
        state = session.get(JobState, SYNC_JOB_NAME)
        runs = session.scalars(select(JobRun)).all()
    assert state is not None
    assert (state.lease_owner, state.last_run_outcome) == (None, "succeeded")
    assert [(run.outcome, run.counts["mode"]) for run in runs if run.counts] == [("succeeded", "full")]


def test_sync_run_endpoint_background_failure_is_logged_not_raised(committed_db: Engine, settings: Settings) -> None:
    # Given: local settings without Sierra credentials, and a client that re-raises server-side errors
    assert settings.sierra_api_client_key is None
    with Session(committed_db) as session, session.begin():
        issued = register_client(
            session, name="admin", role=ClientRole.ADMIN, pepper=settings.api_key_pepper.get_secret_value()
        )
    client = TestClient(create_app(settings), raise_server_exceptions=True, headers={"X-API-Key": issued.api_key})
    # When: the run, started after the 202 went out, fails at once
    response = client.post("/api/v1/sync/run")
    # Then: the answer stands and the failure stays in the log
    assert response.status_code == 202
