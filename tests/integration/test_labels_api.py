"""POST /api/v1/items/{item_id}/labels and GET /api/v1/items/{item_id}/labels against PostgreSQL."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole, WritebackStatus
from tarroitus.models import LabelEvent, WritebackEntry
from tarroitus.repositories.writeback import enqueue_item
from tarroitus.services.items import format_label_line
from tests.api_helpers import assert_api_error, key_header
from tests.factories import make_client, make_item


def label_events(session: Session, item_id: int) -> int:
    return session.scalar(select(func.count()).where(LabelEvent.item_record_id == item_id)) or 0


def test_create_label_records_the_print_and_queues_the_writeback(client: TestClient, db_session: Session) -> None:
    # Given
    station, key = make_client(db_session, role=ClientRole.PRINTER, name="station-1")
    item = make_item(db_session, classification="84.2", classification_override="85.1", signum="KIV")
    # When
    response = client.post(f"/api/v1/items/{item.item_record_id}/labels", headers=key_header(key))
    # Then
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["item_id"] == item.item_record_id
    assert event["client"] == {"id": str(station.id), "name": "station-1"}
    assert (event["classification"], event["signum"]) == ("85.1", "KIV")
    assert event["label_line"] == format_label_line("85.1", "KIV")
    assert event["source"] == "api"
    assert event["idempotency_key"] is None
    db_session.refresh(item)
    assert item.print_count == 1
    assert item.last_printed_by == station.id
    assert item.last_printed_at == datetime.fromisoformat(event["printed_at"])
    queued = db_session.get(WritebackEntry, item.item_record_id)
    assert queued is not None
    assert (queued.status, queued.classification) == (WritebackStatus.QUEUED, "85.1")


def test_create_label_reprints_are_counted_and_requeue(client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session)
    url = f"/api/v1/items/{item.item_record_id}/labels"
    first = client.post(url, headers=key_header(key)).json()
    entry = db_session.get(WritebackEntry, item.item_record_id)
    assert entry is not None
    entry.status = WritebackStatus.DONE
    db_session.flush()
    # When
    second = client.post(url, headers=key_header(key))
    # Then
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]
    db_session.refresh(item)
    db_session.refresh(entry)
    assert item.print_count == 2
    assert label_events(db_session, item.item_record_id) == 2
    assert entry.status is WritebackStatus.QUEUED
    history = client.get(url, headers=key_header(key)).json()
    assert [event["id"] for event in history["data"]] == [second.json()["id"], first["id"]]


def test_create_label_with_the_same_idempotency_key_replays_the_first_result(
    client: TestClient, db_session: Session
) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session)
    url = f"/api/v1/items/{item.item_record_id}/labels"
    headers = {**key_header(key), "Idempotency-Key": "print-0001"}
    # When
    first = client.post(url, headers=headers)
    again = client.post(url, headers=headers)
    # Then
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.json()["idempotency_key"] == "print-0001"
    db_session.refresh(item)
    assert item.print_count == 1
    assert label_events(db_session, item.item_record_id) == 1


def test_create_label_idempotency_keys_are_per_client(client: TestClient, db_session: Session) -> None:
    # Given
    _, one = make_client(db_session, role=ClientRole.PRINTER)
    _, other = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session)
    url = f"/api/v1/items/{item.item_record_id}/labels"
    # When
    first = client.post(url, headers={**key_header(one), "Idempotency-Key": "same"})
    second = client.post(url, headers={**key_header(other), "Idempotency-Key": "same"})
    # Then
    assert (first.status_code, second.status_code) == (201, 201)
    assert label_events(db_session, item.item_record_id) == 2


def test_create_label_idempotency_key_reused_for_another_item_is_409(client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    first_item, second_item = make_item(db_session), make_item(db_session)
    headers = {**key_header(key), "Idempotency-Key": "k-1"}
    client.post(f"/api/v1/items/{first_item.item_record_id}/labels", headers=headers)
    # When
    response = client.post(f"/api/v1/items/{second_item.item_record_id}/labels", headers=headers)
    # Then
    error = assert_api_error(response, 409, "idempotency_key_reused")
    assert error["details"][0]["item_id"] == first_item.item_record_id
    assert label_events(db_session, second_item.item_record_id) == 0


def test_create_label_idempotency_key_reused_with_another_body_is_422(client: TestClient, db_session: Session) -> None:
    # Given: a print recorded with a body under a key
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session, classification="84.2", signum="KIV")
    url = f"/api/v1/items/{item.item_record_id}/labels"
    headers = {**key_header(key), "Idempotency-Key": "k-2"}
    first = client.post(url, headers=headers, json={"classification": "84.2", "signum": "KIV"})
    # When: the key comes again with another body, without one, and with the first body re-serialised
    other_body = client.post(url, headers=headers, json={"classification": "84.2"})
    no_body = client.post(url, headers=headers)
    reordered = b'{ "signum": "KIV", "classification": "84.2" }'
    same_body = client.post(url, headers={**headers, "Content-Type": "application/json"}, content=reordered)
    # Then: the different requests are refused and record nothing; the same one replays
    assert first.status_code == 201
    for refused in (other_body, no_body):
        error = assert_api_error(refused, 422, "idempotency_key_mismatch")
        assert error["details"][0]["field"] == "header.Idempotency-Key"
    assert (same_body.status_code, same_body.json()) == (200, first.json())
    assert label_events(db_session, item.item_record_id) == 1


def test_create_label_without_classification_is_409(client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session, classification=None, classification_override="  ")
    # When
    response = client.post(f"/api/v1/items/{item.item_record_id}/labels", headers=key_header(key))
    # Then
    assert_api_error(response, 409, "no_classification")
    assert label_events(db_session, item.item_record_id) == 0
    assert db_session.get(WritebackEntry, item.item_record_id) is None


def test_create_label_for_a_deleted_item_is_409(client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session, deleted=True)
    # When
    response = client.post(f"/api/v1/items/{item.item_record_id}/labels", headers=key_header(key))
    # Then
    assert_api_error(response, 409, "item_deleted")
    assert label_events(db_session, item.item_record_id) == 0


def test_create_label_checks_what_the_station_printed(client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session, classification="84.2", signum="KIV")
    url = f"/api/v1/items/{item.item_record_id}/labels"
    # When
    stale = client.post(url, headers=key_header(key), json={"classification": "84.1", "signum": "KIV"})
    current = client.post(url, headers=key_header(key), json={"classification": "84.2", "signum": "KIV"})
    # Then
    error = assert_api_error(stale, 409, "label_outdated")
    assert error["details"] == [{"field": "body.classification", "printed": "84.1", "current": "84.2"}]
    assert current.status_code == 201
    assert label_events(db_session, item.item_record_id) == 1


def test_create_label_unknown_item_is_404(client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    # When
    response = client.post("/api/v1/items/999999999999/labels", headers=key_header(key))
    # Then
    assert_api_error(response, 404, "item_not_found")


@pytest.mark.parametrize(
    ("path", "body", "headers", "field"),
    [
        ("abc", None, {}, "path.item_id"),
        ("0", None, {}, "path.item_id"),
        ("99999999999999999999", None, {}, "path.item_id"),
        ("{id}", {"classification": 84.2}, {}, "body.classification"),
        ("{id}", {"signum": ["K"]}, {}, "body.signum"),
        ("{id}", {"colour": "red"}, {}, "body.colour"),
        ("{id}", ["not", "an", "object"], {}, "body"),
        ("{id}", None, {"Idempotency-Key": "k" * 256}, "header.Idempotency-Key"),
    ],
)
def test_create_label_bad_input_is_422(
    client: TestClient,
    db_session: Session,
    path: str,
    body: object,
    headers: dict[str, str],
    field: str,
) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session)
    url = f"/api/v1/items/{path.format(id=item.item_record_id)}/labels"
    # When
    response = client.post(url, headers={**key_header(key), **headers}, json=body)
    # Then
    error = assert_api_error(response, 422, "invalid_input")
    assert field in [detail["field"] for detail in error["details"]]
    assert label_events(db_session, item.item_record_id) == 0


def test_create_label_malformed_json_is_422(client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session)
    # When
    response = client.post(
        f"/api/v1/items/{item.item_record_id}/labels",
        headers={**key_header(key), "Content-Type": "application/json"},
        content=b'{"classification": ',
    )
    # Then
    error = assert_api_error(response, 422, "invalid_input")
    assert error["details"][0]["type"] == "json_invalid"


def test_create_label_auth_matrix(client: TestClient, db_session: Session) -> None:
    # Given
    item = make_item(db_session)
    url = f"/api/v1/items/{item.item_record_id}/labels"
    _, sync_key = make_client(db_session, role=ClientRole.SYNC)
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    _, revoked_key = make_client(db_session, role=ClientRole.PRINTER, revoked_at=datetime.now(UTC))
    # When / Then
    assert_api_error(client.post(url), 401, "not_authenticated")
    assert_api_error(client.post(url, headers=key_header("trt_unknown-key-000000")), 401, "not_authenticated")
    assert_api_error(client.post(url, headers=key_header(revoked_key)), 401, "not_authenticated")
    assert_api_error(client.post(url, headers=key_header(sync_key)), 403, "forbidden")
    assert label_events(db_session, item.item_record_id) == 0
    assert client.post(url, headers=key_header(admin_key)).status_code == 201


def test_read_labels_auth_and_unknown_item(client: TestClient, db_session: Session) -> None:
    # Given
    item = make_item(db_session)
    _, printer_key = make_client(db_session, role=ClientRole.PRINTER)
    _, sync_key = make_client(db_session, role=ClientRole.SYNC)
    url = f"/api/v1/items/{item.item_record_id}/labels"
    # When / Then
    assert_api_error(client.get(url), 401, "not_authenticated")
    assert_api_error(client.get(url, headers=key_header(sync_key)), 403, "forbidden")
    assert_api_error(client.get("/api/v1/items/123/labels", headers=key_header(printer_key)), 404, "item_not_found")
    assert client.get(url, headers=key_header(printer_key)).json() == {"data": [], "count": 0}


def test_create_label_keeps_a_dead_entry_fresh_on_reprint(client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session, classification="84.2")
    enqueue_item(db_session, item_record_id=item.item_record_id, classification="old")
    entry = db_session.get(WritebackEntry, item.item_record_id)
    assert entry is not None
    entry.status, entry.attempts, entry.last_error = WritebackStatus.DEAD, 8, "Sierra said no"
    db_session.flush()
    # When
    client.post(f"/api/v1/items/{item.item_record_id}/labels", headers=key_header(key))
    # Then
    db_session.refresh(entry)
    assert (entry.status, entry.attempts, entry.classification) == (WritebackStatus.QUEUED, 0, "84.2")
