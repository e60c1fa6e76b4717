"""Failed authentications are limited per key and per source address on /api/v1 and the legacy protocol.

A key that verifies is never refused: other clients behind an address where one keeps failing keep working.
"""

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.api.auth_limit import FailedAuthLimiter
from tarroitus.domain import ClientRole
from tarroitus.settings import Settings
from tests.api_helpers import assert_api_error, key_header, share_session
from tests.events import FakeLambdaContext, http_api_event
from tests.factories import make_client

ATTACKER = ("198.51.100.7", 40000)
NEIGHBOUR = ("198.51.100.8", 40000)
STATUS_PATH = "/api/v1/status"


def app_with(settings: Settings, db_session: Session) -> FastAPI:
    """The app on the test's rolled-back session."""
    return share_session(create_app(settings), db_session)


@pytest.fixture
def limited_app(settings: Settings, db_session: Session) -> FastAPI:
    return app_with(settings.model_copy(update={"auth_failure_limit": 3}), db_session)


def test_api_default_limit_answers_429_after_twenty_wrong_keys(app: FastAPI, settings: Settings) -> None:
    # Given
    attacker = TestClient(app, client=ATTACKER)
    for attempt in range(settings.auth_failure_limit):
        # When
        response = attacker.get(STATUS_PATH, headers=key_header(f"trt_guess_{attempt}"))
        # Then
        assert_api_error(response, 401, "not_authenticated")
    blocked = attacker.get(STATUS_PATH, headers=key_header("trt_guess_last"))
    error = assert_api_error(blocked, 429, "too_many_failed_authentications")
    assert settings.auth_failure_limit == 20
    assert 1 <= int(blocked.headers["Retry-After"]) <= settings.auth_failure_window_seconds
    assert error["details"] == [{"retry_after_seconds": int(blocked.headers["Retry-After"])}]


def test_api_valid_key_keeps_working_from_a_source_that_keeps_guessing(
    limited_app: FastAPI, db_session: Session
) -> None:
    # Given: an address past the limit of different failing keys
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    attacker = TestClient(limited_app, client=ATTACKER)
    for attempt in range(3):
        assert_api_error(
            attacker.get(STATUS_PATH, headers=key_header(f"trt_guess_{attempt}")), 401, "not_authenticated"
        )
    # When
    guess = attacker.get(STATUS_PATH, headers=key_header("trt_guess_next"))
    from_attacker = attacker.get(STATUS_PATH, headers=key_header(admin_key))
    from_neighbour = TestClient(limited_app, client=NEIGHBOUR).get(STATUS_PATH, headers=key_header(admin_key))
    # Then: guessing is throttled, a key that verifies is served from anywhere
    error = assert_api_error(guess, 429, "too_many_failed_authentications")
    assert error["message"] == "Too many failed authentication attempts from this address; try again later"
    assert from_attacker.status_code == 200
    assert from_neighbour.status_code == 200


def test_a_revoked_station_heartbeating_behind_a_nat_blocks_only_its_own_key(
    limited_app: FastAPI, db_session: Session
) -> None:
    # Given: behind one address, a station left running with a revoked key, and a working station and dashboard
    revoked, revoked_key = make_client(db_session, role=ClientRole.PRINTER, name="old station")
    revoked.revoked_at = datetime.now(UTC)
    db_session.flush()
    _, station_key = make_client(db_session, role=ClientRole.PRINTER, name="station")
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN, name="dashboard")
    nat = TestClient(limited_app, client=ATTACKER)
    heartbeat = {"internal_hostname": "old-station", "internal_ip_address": "10.0.0.9"}
    # When: the revoked station keeps heartbeating, well past the limit
    answers = [nat.post("/status", data=heartbeat, headers={"x-api-key": revoked_key}) for _ in range(6)]
    # Then: its own key answers 403 three times, then 429; everyone else behind the address keeps working
    assert [answer.status_code for answer in answers] == [403, 403, 403, 429, 429, 429]
    assert answers[-1].json() == {"detail": "Too many failed authentication attempts with this key; try again later"}
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert nat.get("/itemdata/31234000000001", headers={"x-api-key": station_key}).status_code == 404
    assert nat.get("/api/v1/items/31234000000001", headers=key_header(station_key)).status_code == 404
    assert nat.get(STATUS_PATH, headers=key_header(admin_key)).status_code == 200
    assert_api_error(nat.get(STATUS_PATH, headers=key_header("trt_typo")), 401, "not_authenticated")


def test_api_missing_keys_and_valid_keys_do_not_count_as_failures(limited_app: FastAPI, db_session: Session) -> None:
    # Given
    _, printer_key = make_client(db_session, role=ClientRole.PRINTER)
    caller = TestClient(limited_app, client=ATTACKER)
    # When: no key, and a valid key without the role (403), many times over
    for _ in range(5):
        assert caller.get(STATUS_PATH).status_code == 401
        assert caller.get(STATUS_PATH, headers=key_header(printer_key)).status_code == 403
    # Then
    assert caller.get("/api/v1/items", headers=key_header(printer_key)).status_code == 200


def test_legacy_wrong_keys_count_and_the_block_answers_in_the_legacy_body(
    limited_app: FastAPI, db_session: Session
) -> None:
    # Given
    _, station_key = make_client(db_session, role=ClientRole.PRINTER)
    attacker = TestClient(limited_app, client=ATTACKER)
    for attempt in range(3):
        refused = attacker.get("/itemdata/31234000000001", headers={"x-api-key": f"guess-{attempt}"})
        assert refused.status_code == 403
    # When
    blocked = attacker.get("/itemdata/31234000000001", headers={"x-api-key": "guess-next"})
    api_blocked = attacker.get("/api/v1/items", headers=key_header("trt_guess_next"))
    valid = attacker.get("/itemdata/31234000000001", headers={"x-api-key": station_key})
    # Then
    assert blocked.status_code == 429
    assert blocked.json() == {"detail": "Too many failed authentication attempts from this address; try again later"}
    assert int(blocked.headers["Retry-After"]) >= 1
    assert_api_error(api_blocked, 429, "too_many_failed_authentications")
    assert valid.status_code == 404
    assert valid.json() == {"detail": "Item not found"}


@pytest.fixture
def api_handler(settings: Settings) -> Iterator[ModuleType]:
    """The API Lambda handler module, with a fresh limiter of 2 failures for the test (restored afterwards)."""
    assert settings.env == "test", "the handler must be imported with the test settings"
    handler = importlib.import_module("functions.api.handler")
    state = handler.asgi.app.state
    # Swapped by hand: monkeypatch cannot restore attributes of Starlette's State.
    original = state.auth_limiter
    state.auth_limiter = FailedAuthLimiter(limit=2, window_seconds=60)
    yield handler
    state.auth_limiter = original


def test_api_handler_limits_by_api_gateway_source_ip(api_handler: ModuleType) -> None:
    # Given: the Lambda handler, whose client address comes from requestContext.http.sourceIp
    guesses = [http_api_event("GET", STATUS_PATH, headers={"x-api-key": f"trt_wrong_{n}"}) for n in range(3)]
    other = http_api_event("GET", STATUS_PATH, headers={"x-api-key": "trt_wrong_other"})
    other["requestContext"]["http"]["sourceIp"] = "203.0.113.99"
    # When
    statuses = [api_handler.lambda_handler(event, FakeLambdaContext())["statusCode"] for event in guesses]
    other_status = api_handler.lambda_handler(other, FakeLambdaContext())["statusCode"]
    # Then
    assert statuses == [401, 401, 429]
    assert other_status == 401
