"""No API key, token, password or secret reaches the logs: full flows run with every logger at DEBUG.

The flows go through the API Lambda handler (Powertools logger, Mangum, FastAPI, SQLAlchemy,
psycopg), and the scan covers both the log records and everything written to stdout and stderr.
"""

import importlib
import uuid
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine

from tarroitus.db import session_scope
from tarroitus.services.clients import ensure_admin_client
from tarroitus.settings import Settings
from tests.events import FakeLambdaContext, http_api_event, response_json
from tests.factories import make_item
from tests.log_capture import all_logs_at_debug

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


def test_api_flows_log_no_key_or_secret(
    api_handler: ModuleType, committed_db: Engine, settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given
    admin_key = "admin-key-from-the-secret-" + uuid.uuid4().hex
    with session_scope(committed_db) as session:
        pepper = settings.api_key_pepper.get_secret_value()
        ensure_admin_client(session, name="bootstrap-admin", api_key=admin_key, pepper=pepper)
        barcode = make_item(session).barcode
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
