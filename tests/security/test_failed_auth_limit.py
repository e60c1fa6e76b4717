"""Failed authentications are limited per source address on /api/v1 and the legacy protocol."""

import importlib
from collections.abc import Iterator
from types import ModuleType

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.api.auth_limit import FailedAuthLimiter
from tarroitus.api.deps import get_session
from tarroitus.models import ClientRole
from tarroitus.settings import Settings
from tests.api_helpers import assert_api_error, key_header
from tests.events import FakeLambdaContext, http_api_event
from tests.factories import make_client

ATTACKER = ("198.51.100.7", 40000)
NEIGHBOUR = ("198.51.100.8", 40000)
STATUS_PATH = "/api/v1/status"


def app_with(settings: Settings, db_session: Session) -> FastAPI:
    """The app on the test's rolled-back session."""
    application = create_app(settings)

    def shared_session() -> Iterator[Session]:
        with db_session.begin_nested():
            yield db_session

    application.dependency_overrides[get_session] = shared_session
    return application


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


def test_api_blocked_source_is_refused_even_with_a_valid_key(limited_app: FastAPI, db_session: Session) -> None:
    # Given
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    attacker = TestClient(limited_app, client=ATTACKER)
    for attempt in range(3):
        attacker.get(STATUS_PATH, headers=key_header(f"trt_guess_{attempt}"))
    # When
    from_attacker = attacker.get(STATUS_PATH, headers=key_header(admin_key))
    from_neighbour = TestClient(limited_app, client=NEIGHBOUR).get(STATUS_PATH, headers=key_header(admin_key))
    # Then
    assert_api_error(from_attacker, 429, "too_many_failed_authentications")
    assert from_neighbour.status_code == 200


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
    blocked = attacker.get("/itemdata/31234000000001", headers={"x-api-key": station_key})
    api_blocked = attacker.get("/api/v1/items", headers=key_header(station_key))
    # Then
    assert blocked.status_code == 429
    assert blocked.json() == {"detail": "Too many failed authentication attempts from this address; try again later"}
    assert int(blocked.headers["Retry-After"]) >= 1
    assert_api_error(api_blocked, 429, "too_many_failed_authentications")


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
    event = http_api_event("GET", STATUS_PATH, headers={"x-api-key": "trt_wrong"})
    other = http_api_event("GET", STATUS_PATH, headers={"x-api-key": "trt_wrong"})
    other["requestContext"]["http"]["sourceIp"] = "203.0.113.99"
    # When
    statuses = [api_handler.lambda_handler(event, FakeLambdaContext())["statusCode"] for _ in range(3)]
    other_status = api_handler.lambda_handler(other, FakeLambdaContext())["statusCode"]
    # Then
    assert statuses == [401, 401, 429]
    assert other_status == 401
