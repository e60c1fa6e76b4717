"""No API key, token, password or secret reaches the logs: full flows run with every logger at DEBUG.

The flows go through the Lambda handlers (Powertools logger, Mangum, FastAPI, SQLAlchemy, psycopg,
httpx to the Sierra simulator): keys registered, rotated, revoked and guessed over both protocols; a
full and a changes sync; prints and a writeback through lost tokens, 5xx and a refused write. The scan
covers both the log records and everything written to stdout and stderr.
"""

import base64
import importlib
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine

from tarroitus.repositories.transactions import session_scope
from tarroitus.services.clients import ensure_admin_client
from tarroitus.settings import Settings, get_settings
from tests.events import FakeLambdaContext, http_api_event, response_json, scheduler_event
from tests.factories import make_item
from tests.log_capture import all_logs_at_debug
from tests.sierra_fixtures import RunningSimulator, run_simulator

#: Shorter values are too likely to occur by chance (a user name, a word in a message).
MIN_SECRET_LENGTH = 8


@pytest.fixture
def api_handler(settings: Settings) -> ModuleType:
    assert settings.env == "test", "the handler must be imported with the test settings"
    return importlib.import_module("functions.api.handler")


def invoke(handler: ModuleType, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = handler.lambda_handler(http_api_event(method, path, **kwargs), FakeLambdaContext())
    return response


def configured_secrets(settings: Settings) -> set[str]:
    """Every secret value in the settings (pepper, database password, Sierra credentials, DSNs)."""
    values = set()
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if hasattr(value, "get_secret_value") and value.get_secret_value():
            values.add(value.get_secret_value())
    if settings.database_url is not None:
        password = settings.database_url.get_secret_value().partition("://")[2].partition("@")[0].partition(":")[2]
        values.add(password)
    return values


def run_api_flows(handler: ModuleType, admin_key: str, barcode: str) -> set[str]:
    """Register, use, rotate and revoke keys over both protocols; return every key value used."""
    admin = {"x-api-key": admin_key}
    registered = response_json(
        invoke(handler, "POST", "/api/v1/clients", headers=admin, body={"name": "station-a", "type": "printer"})
    )
    adopted_key = "legacy-station-key-" + uuid.uuid4().hex
    adopted = response_json(
        invoke(
            handler,
            "POST",
            "/api/v1/clients",
            headers=admin,
            body={"name": "station-b", "type": "printer", "api_key": adopted_key},
        )
    )
    printer_key = registered["api_key"]
    bearer = {"authorization": f"Bearer {printer_key}"}
    item = response_json(invoke(handler, "GET", f"/api/v1/items/{barcode}", headers=bearer))["data"][0]
    labels = f"/api/v1/items/{item['item_id']}/labels"
    assert invoke(handler, "POST", labels, headers={**bearer, "idempotency-key": "scan-1"})["statusCode"] == 201
    assert invoke(handler, "GET", f"/itemdata/{barcode}", headers={"x-api-key": adopted_key})["statusCode"] == 200
    assert (
        invoke(handler, "PUT", f"/itemdata/{item['item_id']}", headers={"x-api-key": adopted_key})["statusCode"] == 200
    )
    rotated = response_json(invoke(handler, "POST", f"/api/v1/clients/{registered['id']}/rotate-key", headers=admin))
    invoke(handler, "POST", f"/api/v1/clients/{adopted['id']}/revoke", headers=admin)
    wrong_key = "trt_wrong_" + uuid.uuid4().hex
    refused = [
        invoke(handler, "GET", "/api/v1/status", headers={"x-api-key": key})["statusCode"]
        for key in (printer_key, adopted_key, wrong_key)
    ]
    assert refused == [401, 401, 401]
    assert invoke(handler, "GET", f"/itemdata/{barcode}", headers={"x-api-key": wrong_key})["statusCode"] == 403
    assert invoke(handler, "GET", "/api/v1/status", headers={"x-api-key": rotated["api_key"]})["statusCode"] == 403
    return {admin_key, printer_key, adopted_key, rotated["api_key"], wrong_key}


def install_admin_and_item(engine: Engine, settings: Settings) -> tuple[str, str]:
    """An admin client installed as the migrate function does (its key from the secret), and an item's barcode."""
    admin_key = "admin-key-from-the-secret-" + uuid.uuid4().hex
    with session_scope(engine) as session:
        pepper = settings.api_key_pepper.get_secret_value()
        ensure_admin_client(session, name="bootstrap-admin", api_key=admin_key, pepper=pepper)
        return admin_key, make_item(session).barcode


def test_api_flows_log_no_key_or_secret(
    api_handler: ModuleType, committed_db: Engine, settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given
    admin_key, barcode = install_admin_and_item(committed_db, settings)
    # When
    with all_logs_at_debug() as logs:
        used_keys = run_api_flows(api_handler, admin_key, barcode)
    output = capfd.readouterr()
    # Then
    text = "\n".join([logs.text, output.out, output.err])
    assert "Label printed" in text, "the capture saw the service's own log lines"
    assert "SELECT" in text, "the capture saw SQLAlchemy's DEBUG output"
    secrets = {value for value in used_keys | configured_secrets(settings) if len(value) >= MIN_SECRET_LENGTH}
    leaked = sorted(secret[:6] + "..." for secret in secrets if secret in text)
    assert leaked == [], f"secrets found in the logs: {leaked}"


def test_keys_sent_in_a_query_string_are_refused_and_not_logged(
    api_handler: ModuleType, committed_db: Engine, settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given: a valid admin key, sent as a query parameter instead of a header
    admin_key, barcode = install_admin_and_item(committed_db, settings)
    # When: through the API Lambda, everything logged at DEBUG
    with all_logs_at_debug() as logs:
        answers = [
            invoke(api_handler, "GET", "/api/v1/items", query={"api_key": admin_key})["statusCode"],
            invoke(api_handler, "GET", f"/itemdata/{barcode}", query={"x-api-key": admin_key})["statusCode"],
            invoke(api_handler, "GET", "/api/v1/status", query={"token": admin_key, "limit": "1"})["statusCode"],
        ]
    output = capfd.readouterr()
    # Then
    assert answers == [401, 403, 401]
    assert admin_key not in "\n".join([logs.text, output.out, output.err])


@pytest.fixture
def small_simulator() -> Iterator[RunningSimulator]:
    """A simulator with 200 items, so that a full sync logged at DEBUG stays small."""
    with run_simulator(item_count=200) as running:
        yield running


@pytest.fixture
def job_handlers(
    small_simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, ModuleType, ModuleType]]:
    """The API, sync and writeback Lambda modules, imported with settings pointing at the simulator."""
    monkeypatch.setenv("SIERRA_API_ENDPOINT", small_simulator.base_url)
    monkeypatch.setenv("SIERRA_API_CLIENT_KEY", small_simulator.config.client_key)
    monkeypatch.setenv("SIERRA_API_CLIENT_SECRET", small_simulator.config.client_secret)
    monkeypatch.setenv("SIERRA_UPDATE_BACKOFF_BASE_SECONDS", "0")
    get_settings.cache_clear()
    modules = tuple(
        importlib.reload(importlib.import_module(f"functions.{name}.handler"))
        for name in ("api", "sierra_sync", "sierra_writeback")
    )
    yield modules  # type: ignore[misc]
    get_settings.cache_clear()


def sierra_secrets(simulator: RunningSimulator) -> set[str]:
    """The Sierra client credentials (plain and as a Basic header) and every access token the simulator issued."""
    key, secret = simulator.config.client_key, simulator.config.client_secret
    basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
    tokens = set(simulator.app.state.simulator.tokens._tokens)
    return {key, secret, basic, *tokens}


def test_sync_and_writeback_runs_log_no_credentials_or_tokens(
    job_handlers: tuple[ModuleType, ModuleType, ModuleType],
    small_simulator: RunningSimulator,
    committed_db: Engine,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Given: an admin key; Sierra will reject a token, fail a few requests and refuse one write
    api, sync, writeback = job_handlers
    settings = get_settings()
    admin_key = "admin-key-from-the-secret-" + uuid.uuid4().hex
    with session_scope(committed_db) as session:
        ensure_admin_client(
            session, name="bootstrap-admin", api_key=admin_key, pepper=settings.api_key_pepper.get_secret_value()
        )
    context = FakeLambdaContext(remaining_millis=120_000)
    # When: a full sync, prints of ten items, Sierra trouble, and the writeback, all logged at DEBUG
    with all_logs_at_debug() as logs:
        assert sync.lambda_handler(scheduler_event(), context)["outcome"] == "succeeded"
        printed = print_some_items(api, admin_key, count=10)
        small_simulator.set_faults(
            fail_next=[401, 503, 500, 400], methods=["PUT"], refused_put_keys={"inventoryDate": None}
        )
        result = writeback.lambda_handler(scheduler_event(), context)
        assert sync.lambda_handler({"mode": "changes"}, context)["outcome"] == "succeeded"
    output = capfd.readouterr()
    # Then
    text = "\n".join([logs.text, output.out, output.err])
    assert printed == 10
    assert result["written"] + result["dead_lettered"] + result["retried"] >= 10
    assert "Writeback dead-lettered" in text, "the capture saw the writeback's warnings"
    assert "fetching a new one" in text, "the capture saw the token refresh"
    secrets = sierra_secrets(small_simulator) | configured_secrets(settings) | {admin_key}
    assert len(secrets) >= 8, "credentials, the Basic header, the admin key and at least three tokens"
    leaked = sorted(secret[:6] + "..." for secret in secrets if len(secret) >= MIN_SECRET_LENGTH and secret in text)
    assert leaked == [], f"secrets found in the logs: {leaked}"


def print_some_items(api: ModuleType, admin_key: str, *, count: int) -> int:
    """Register a station and print `count` synced items with a classification through the API handler."""
    station = response_json(
        invoke(api, "POST", "/api/v1/clients", headers={"x-api-key": admin_key}, body={"name": "st", "type": "printer"})
    )
    printer = {"authorization": f"Bearer {station['api_key']}"}
    page = response_json(
        invoke(api, "GET", "/api/v1/items", headers=printer, query={"has_classification": "true", "limit": str(count)})
    )
    printed = 0
    for item in page["data"]:
        posted = invoke(api, "POST", f"/api/v1/items/{item['item_id']}/labels", headers=printer)
        printed += posted["statusCode"] == 201
    return printed
