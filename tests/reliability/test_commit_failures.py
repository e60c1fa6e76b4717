"""Every write route, with a COMMIT that fails: the answer is an error, never a 2xx, and nothing is stored.

The route's statements all succeed; the database refuses the transaction at COMMIT (a deferred
constraint trigger, `commit_faults.py`), once as a retryable serialization failure (503 with
Retry-After) and once as a constraint violation (500). A write acknowledged with 2xx that is not
in the database afterwards is counted as `acknowledged_lost`.
"""

import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.domain import ClientRole
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.settings import Settings
from tests.events import FakeLambdaContext, http_api_event
from tests.factories import make_client, make_item
from tests.reliability.commit_faults import (
    CHECK_VIOLATION,
    SERIALIZATION_FAILURE,
    commit_fails,
    database_fingerprint,
)
from tests.reliability.ledger import LEDGER, ScenarioOutcome
from tests.uploads import legacy_row, legacy_tsv_gz

#: What a failed COMMIT answers, by the SQLSTATE it failed with.
ANSWERS = {SERIALIZATION_FAILURE: (503, "unavailable"), CHECK_VIOLATION: (500, "internal_error")}


@dataclass(frozen=True)
class WriteRoute:
    """A write route and how to build one request to it against committed rows."""

    name: str
    legacy: bool
    prepare: Callable[[Session], dict[str, Any]]


def _key(session: Session, role: ClientRole) -> str:
    return make_client(session, role=role)[1]


def create_client(session: Session) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": "/api/v1/clients",
        "headers": {"X-API-Key": _key(session, ClientRole.ADMIN)},
        "json": {"name": f"station-{uuid.uuid4().hex[:8]}", "type": "printer"},
    }


def rotate_client_key(session: Session) -> dict[str, Any]:
    station, _ = make_client(session, role=ClientRole.PRINTER)
    admin = _key(session, ClientRole.ADMIN)
    return {"method": "POST", "url": f"/api/v1/clients/{station.id}/rotate-key", "headers": {"X-API-Key": admin}}


def revoke_client_key(session: Session) -> dict[str, Any]:
    station, _ = make_client(session, role=ClientRole.PRINTER)
    admin = _key(session, ClientRole.ADMIN)
    return {"method": "POST", "url": f"/api/v1/clients/{station.id}/revoke", "headers": {"X-API-Key": admin}}


def create_label(session: Session) -> dict[str, Any]:
    item = make_item(session)
    printer = _key(session, ClientRole.PRINTER)
    headers = {"X-API-Key": printer, "Idempotency-Key": "scan-1"}
    return {"method": "POST", "url": f"/api/v1/items/{item.item_record_id}/labels", "headers": headers}


def create_heartbeat(session: Session) -> dict[str, Any]:
    printer = _key(session, ClientRole.PRINTER)
    return {
        "method": "POST",
        "url": "/api/v1/status/heartbeat",
        "headers": {"X-API-Key": printer},
        "json": {"client_version": "2.4.1", "host_name": "pasila-ws-03", "printer_state": "ready"},
    }


def load_overrides(session: Session) -> dict[str, Any]:
    item = make_item(session)
    admin = _key(session, ClientRole.ADMIN)
    mapping = f"item_record_id,classification\n{item.item_record_id},99.1\n".encode()
    return {
        "method": "POST",
        "url": "/api/v1/items/classification-overrides",
        "headers": {"X-API-Key": admin},
        "files": {"file": ("overrides.csv", mapping, "text/csv")},
    }


def _sync_batch(session: Session, *, url: str, key_header: str, item_id: int) -> dict[str, Any]:
    agent = _key(session, ClientRole.SYNC)
    batch = legacy_tsv_gz([legacy_row(item_id)])
    return {
        "method": "POST",
        "url": url,
        "headers": {key_header: agent},
        "files": {"file": ("data.tsv.gz", batch, "application/gzip")},
        "data": {"timestamp": datetime.now(UTC).isoformat()},
    }


def upload_sync_batch(session: Session) -> dict[str, Any]:
    return _sync_batch(session, url="/api/v1/sync", key_header="X-API-Key", item_id=7_100_001)


def retry_dead_letters(session: Session) -> dict[str, Any]:
    item_id = make_item(session).item_record_id
    now = datetime.now(UTC)
    queue.enqueue_item(session, item_record_id=item_id, classification="84.2", now=now)
    queue.claim_batch(session, owner="run-a", now=now, limit=10)
    queue.dead_letter(session, item_record_id=item_id, owner="run-a", now=now, error_code=116, error="HTTP 400")
    admin = _key(session, ClientRole.ADMIN)
    return {"method": "POST", "url": "/api/v1/writeback/retry", "headers": {"X-API-Key": admin}, "json": {"all": True}}


def legacy_status(session: Session) -> dict[str, Any]:
    printer = _key(session, ClientRole.PRINTER)
    form = {"internal_hostname": "pasila-ws-03", "internal_ip_address": "10.1.2.3"}
    return {"method": "POST", "url": "/status", "headers": {"x-api-key": printer}, "data": form}


def legacy_print(session: Session) -> dict[str, Any]:
    item = make_item(session)
    printer = _key(session, ClientRole.PRINTER)
    return {"method": "PUT", "url": f"/itemdata/{item.item_record_id}", "headers": {"x-api-key": printer}}


def legacy_sync_batch(session: Session) -> dict[str, Any]:
    return _sync_batch(session, url="/sync", key_header="x-api-key", item_id=7_100_002)


WRITE_ROUTES = [
    WriteRoute("clients_create", False, create_client),
    WriteRoute("clients_rotate_key", False, rotate_client_key),
    WriteRoute("clients_revoke", False, revoke_client_key),
    WriteRoute("labels_create", False, create_label),
    WriteRoute("status_heartbeat", False, create_heartbeat),
    WriteRoute("classification_overrides", False, load_overrides),
    WriteRoute("sync_upload", False, upload_sync_batch),
    WriteRoute("writeback_retry", False, retry_dead_letters),
    WriteRoute("legacy_status", True, legacy_status),
    WriteRoute("legacy_itemdata_put", True, legacy_print),
    WriteRoute("legacy_sync_upload", True, legacy_sync_batch),
]


def assert_error_body(body: dict[str, Any], *, legacy: bool, code: str) -> None:
    """The protocol's error shape: `{"detail": ...}` for the legacy routes, the error envelope for /api/v1."""
    if legacy:
        assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    else:
        assert body["error"]["code"] == code, body


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=[route.name for route in WRITE_ROUTES])
def test_a_write_whose_commit_fails_is_not_acknowledged(
    committed_db: Engine, settings: Settings, route: WriteRoute
) -> None:
    # Given: the route's rows, committed, and an API on the same database
    api = TestClient(create_app(settings), raise_server_exceptions=False)
    outcome = ScenarioOutcome(name=f"commit_fails_{route.name}")
    answers = []
    for sqlstate in ANSWERS:
        with session_scope(committed_db) as session:
            request = route.prepare(session)
        before = database_fingerprint(committed_db)
        # When: the database refuses the route's transaction at COMMIT
        with commit_fails(committed_db, sqlstate=sqlstate):
            response = api.request(**request)
        # Then: an error in the protocol's shape, and the database as it was
        stored = database_fingerprint(committed_db) != before
        acknowledged = response.is_success
        outcome.faults += 1
        outcome.items += 1
        outcome.written += stored
        outcome.acknowledged_lost += acknowledged and not stored
        outcome.extra["acknowledged"] = outcome.extra.get("acknowledged", 0) + acknowledged
        answers.append((response.status_code, response.json(), response.headers.get("Retry-After"), stored))
    LEDGER.record(outcome)
    for (status, code), (answered, body, retry_after, stored) in zip(ANSWERS.values(), answers, strict=True):
        assert answered == status, body
        assert_error_body(body, legacy=route.legacy, code=code)
        assert (retry_after is not None) == (status == 503)
        assert not stored
    assert outcome.acknowledged_lost == 0


@pytest.mark.parametrize("route", [create_label, legacy_print], ids=["labels_create", "legacy_itemdata_put"])
def test_a_write_whose_commit_fails_is_not_acknowledged_through_the_lambda_handler(
    committed_db: Engine, settings: Settings, route: Callable[[Session], dict[str, Any]]
) -> None:
    # Given: the API Lambda's handler (Mangum), as API Gateway invokes it
    assert settings.env == "test"
    handler = importlib.import_module("functions.api.handler")
    with session_scope(committed_db) as session:
        request = route(session)
    before = database_fingerprint(committed_db)
    # When
    with commit_fails(committed_db, sqlstate=SERIALIZATION_FAILURE):
        event = http_api_event(request["method"], request["url"], headers=request["headers"])
        response = handler.lambda_handler(event, FakeLambdaContext())
    # Then
    assert response["statusCode"] == 503, response
    assert database_fingerprint(committed_db) == before
