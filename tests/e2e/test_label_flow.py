"""The label workflow end to end through the API Lambda handler (Mangum), over real PostgreSQL.

New protocol: an admin registers a printer, the printer looks up a barcode, posts the label, and
the status shows one printed item and one queued writeback. Legacy protocol: the same through a
station speaking shared/LEGACY_API.md, with byte-exact bodies.
"""

import importlib
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine

from tarroitus.models import Item
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.clients import ensure_admin_client
from tarroitus.services.items import format_label_line
from tarroitus.settings import Settings
from tests.events import FakeLambdaContext, http_api_event, response_json
from tests.factories import make_item

ADMIN_KEY = "e2e-admin-key-from-the-secret"


@pytest.fixture
def api_handler(settings: Settings) -> ModuleType:
    assert settings.env == "test", "the handler must be imported with the test settings"
    return importlib.import_module("functions.api.handler")


@pytest.fixture
def seeded(committed_db: Engine, settings: Settings) -> Item:
    """A committed admin client (installed as the migrate function does) and one printable item."""
    with session_scope(committed_db) as session:
        ensure_admin_client(
            session, name="bootstrap-admin", api_key=ADMIN_KEY, pepper=settings.api_key_pepper.get_secret_value()
        )
        return make_item(session, barcode="31234012345678", classification="84.2", signum="KIV", material_code="3")


def invoke(handler: ModuleType, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = handler.lambda_handler(http_api_event(method, path, **kwargs), FakeLambdaContext())
    return response


def test_label_flow_through_the_api_handler(api_handler: ModuleType, seeded: Item) -> None:
    # Given: an admin registers a printer station
    registered = invoke(
        api_handler,
        "POST",
        "/api/v1/clients",
        headers={"x-api-key": ADMIN_KEY},
        body={"name": "e2e-station", "type": "printer"},
    )
    assert registered["statusCode"] == 201, registered
    printer = {"authorization": f"Bearer {response_json(registered)['api_key']}"}

    # When: the station looks up the barcode, prints, and reports the print twice with one key
    looked_up = invoke(api_handler, "GET", f"/api/v1/items/{seeded.barcode}", headers=printer)
    item = response_json(looked_up)["data"][0]
    label_path = f"/api/v1/items/{item['item_id']}/labels"
    retry_headers = {**printer, "idempotency-key": "scan-0001"}
    posted = invoke(api_handler, "POST", label_path, headers=retry_headers)
    replayed = invoke(api_handler, "POST", label_path, headers=retry_headers)
    status = invoke(api_handler, "GET", "/api/v1/status", headers={"x-api-key": ADMIN_KEY})

    # Then
    assert looked_up["statusCode"] == 200
    assert item["label"]["line"] == format_label_line("84.2", "KIV")
    assert (posted["statusCode"], replayed["statusCode"]) == (201, 200)
    assert response_json(replayed) == response_json(posted)
    assert response_json(posted)["client"]["name"] == "e2e-station"
    body = response_json(status)
    assert status["statusCode"] == 200
    assert (body["items"]["total"], body["items"]["printed"]) == (1, 1)
    assert (body["writeback_queue"]["depth"], body["writeback_queue"]["queued"]) == (1, 1)
    assert {listed["name"] for listed in body["clients"]} == {"bootstrap-admin", "e2e-station"}
    after = response_json(invoke(api_handler, "GET", f"/api/v1/items/{seeded.barcode}", headers=printer))["data"][0]
    assert (after["label_state"]["print_count"], after["writeback"]["state"]) == (1, "queued")


def test_label_flow_through_the_legacy_protocol(api_handler: ModuleType, seeded: Item) -> None:
    # Given: an admin adopts the key an existing station already has
    station_key = "existing-station-key-000111"
    adopted = invoke(
        api_handler,
        "POST",
        "/api/v1/clients",
        headers={"x-api-key": ADMIN_KEY},
        body={"name": "old-station", "type": "SIGNUM_PRINTER", "api_key": station_key},
    )
    assert adopted["statusCode"] == 201, adopted
    station = {"x-api-key": station_key}
    form = {"content-type": "application/x-www-form-urlencoded"}

    # When: the station does what it always did
    heartbeat = invoke(
        api_handler,
        "POST",
        "/status",
        headers={**station, **form},
        body=urlencode({"internal_hostname": "pasila-ws-03", "internal_ip_address": "10.1.2.3"}),
    )
    item_data = invoke(api_handler, "GET", f"/itemdata/{seeded.barcode}", headers=station)
    printed = invoke(api_handler, "PUT", f"/itemdata/{seeded.item_record_id}", headers=station)
    unknown = invoke(api_handler, "GET", "/itemdata/99999999999999", headers=station)
    bad_key = invoke(api_handler, "GET", f"/itemdata/{seeded.barcode}", headers={"x-api-key": "nope-nope-nope"})
    healthz = invoke(api_handler, "GET", "/healthz")
    readiness = invoke(api_handler, "GET", "/readiness")
    status = invoke(api_handler, "GET", "/api/v1/status", headers={"x-api-key": ADMIN_KEY})

    # Then
    assert heartbeat["statusCode"] == 200
    assert heartbeat["body"] == (
        '{"full_sync_completed_at":"","initialized_at":"","last_sync_run_completed_at":"",'
        '"sync_changes_since":"","sync_mode":"SYNC_FULL"}'
    )
    assert item_data["statusCode"] == 200
    assert item_data["body"] == (
        f'{{"item_record_id":{seeded.item_record_id},"item_number":"{seeded.item_number}",'
        f'"barcode":"31234012345678","bib_number":"{seeded.bib_number}","best_author":"{seeded.best_author}",'
        f'"best_title":"{seeded.best_title}","itype_code_num":{seeded.itype_code_num},'
        f'"item_type_name":"{seeded.item_type_name}","material_code":"3","material_name":"{seeded.material_name}",'
        '"classification":"84.2","shelfmark":"KIV"}'
    )
    assert (printed["statusCode"], printed["body"]) == (200, '{"updated":true}')
    assert (unknown["statusCode"], unknown["body"]) == (404, '{"detail":"Item not found"}')
    assert (bad_key["statusCode"], bad_key["body"]) == (403, '{"detail":"Invalid x-api-key"}')
    assert (healthz["statusCode"], healthz["body"]) == (200, "")
    assert (readiness["statusCode"], readiness["body"]) == (200, "")
    body = response_json(status)
    assert (body["items"]["printed"], body["writeback_queue"]["depth"]) == (1, 1)
    station_row = next(listed for listed in body["clients"] if listed["name"] == "old-station")
    assert (station_row["host_name"], station_row["ip_address"]) == ("pasila-ws-03", "10.1.2.3")
    assert station_row["last_seen_at"] is not None
