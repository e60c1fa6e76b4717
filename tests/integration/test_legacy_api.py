"""The legacy protocol (shared/LEGACY_API.md) beside /api/v1, on the same data, byte-compatible."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import pytest
from fastapi import FastAPI, Form, Path
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from tarroitus.api.deps import get_db_engine
from tarroitus.domain import SYNC_JOB_NAME, ClientRole, SyncMode, WritebackStatus
from tarroitus.models import Client, LabelEvent, WritebackEntry
from tarroitus.repositories import job_state
from tests.factories import make_client, make_item

LEGACY_FIELDS = [
    "item_record_id",
    "item_number",
    "barcode",
    "bib_number",
    "best_author",
    "best_title",
    "itype_code_num",
    "item_type_name",
    "material_code",
    "material_name",
    "classification",
    "shelfmark",
]
STATUS_FIELDS = [
    "full_sync_completed_at",
    "initialized_at",
    "last_sync_run_completed_at",
    "sync_changes_since",
    "sync_mode",
]
FORBIDDEN = b'{"detail":"Invalid x-api-key"}'
NOT_FOUND = b'{"detail":"Item not found"}'
STATION_FORM = {"internal_hostname": "pasila-ws-03", "internal_ip_address": "10.1.2.3"}


@pytest.fixture
def station(db_session: Session) -> tuple[Client, str]:
    return make_client(db_session, role=ClientRole.PRINTER, name="legacy-station")


@pytest.fixture
def reference() -> Iterator[TestClient]:
    """A plain FastAPI app declaring the legacy routes' parameters: what the stations were built against."""
    app = FastAPI()

    @app.get("/itemdata/{barcode}")
    def get_item(barcode: Annotated[str, Path(pattern=r"^[0-9\.\w]{10,30}$")]) -> dict[str, str]:
        return {"barcode": barcode}

    @app.put("/itemdata/{item_record_id}")
    def put_item(item_record_id: int) -> dict[str, int]:
        return {"id": item_record_id}

    @app.post("/status")
    def post_status(
        internal_hostname: Annotated[str, Form()], internal_ip_address: Annotated[str, Form()]
    ) -> dict[str, str]:
        return {"host": internal_hostname, "ip": internal_ip_address}

    with TestClient(app) as test_client:
        yield test_client


def test_healthz_is_200_with_an_empty_body(client: TestClient) -> None:
    # Given / When
    response = client.get("/healthz")
    # Then
    assert (response.status_code, response.content) == (200, b"")


def test_readiness_is_200_with_an_empty_body(client: TestClient) -> None:
    # Given / When
    response = client.get("/readiness")
    # Then
    assert (response.status_code, response.content) == (200, b"")


def test_readiness_is_503_when_the_database_does_not_answer(app: FastAPI, client: TestClient) -> None:
    # Given
    unreachable = create_engine("postgresql+psycopg://nobody:x@127.0.0.1:9/none", connect_args={"connect_timeout": 2})

    def broken_engine() -> Engine:
        return unreachable

    app.dependency_overrides[get_db_engine] = broken_engine
    # When
    response = client.get("/readiness")
    # Then
    assert (response.status_code, response.content) == (503, b"")
    unreachable.dispose()


def test_legacy_status_records_the_heartbeat_and_answers_the_sync_state(
    client: TestClient, db_session: Session, station: tuple[Client, str]
) -> None:
    # Given
    client_row, key = station
    state = job_state.get_or_create(db_session, job_name=SYNC_JOB_NAME)
    completed = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    state.mode, state.full_sync_completed_at, state.changes_since = SyncMode.CHANGES, completed, completed
    state.last_run_completed_at = completed + timedelta(minutes=5)
    db_session.flush()
    # When
    response = client.post("/status", headers={"x-api-key": key}, data=STATION_FORM)
    # Then
    assert response.status_code == 200
    body = response.json()
    assert list(body) == STATUS_FIELDS
    assert body["sync_mode"] == "SYNC_CHANGES"
    assert datetime.fromisoformat(body["full_sync_completed_at"]) == completed
    assert datetime.fromisoformat(body["sync_changes_since"]) == completed
    assert datetime.fromisoformat(body["last_sync_run_completed_at"]) == completed + timedelta(minutes=5)
    assert datetime.fromisoformat(body["initialized_at"]) == state.initialized_at
    db_session.refresh(client_row)
    assert (client_row.host_name, client_row.ip_address) == ("pasila-ws-03", "10.1.2.3")
    assert client_row.last_seen_at is not None


def test_legacy_status_before_any_sync_is_full_with_empty_timestamps(
    client: TestClient, station: tuple[Client, str]
) -> None:
    # Given / When
    response = client.post("/status", headers={"x-api-key": station[1]}, data=STATION_FORM)
    # Then
    assert response.content == (
        b'{"full_sync_completed_at":"","initialized_at":"","last_sync_run_completed_at":"",'
        b'"sync_changes_since":"","sync_mode":"SYNC_FULL"}'
    )


def test_legacy_status_missing_form_field_is_fastapis_422(
    client: TestClient, reference: TestClient, station: tuple[Client, str]
) -> None:
    # Given
    form = {"internal_hostname": "pasila-ws-03"}
    # When
    response = client.post("/status", headers={"x-api-key": station[1]}, data=form)
    expected = reference.post("/status", data=form)
    # Then
    assert response.status_code == expected.status_code == 422
    assert response.content == expected.content


def test_legacy_item_data_answers_the_station_fields(
    client: TestClient, db_session: Session, station: tuple[Client, str]
) -> None:
    # Given
    item = make_item(
        db_session, classification="84.2", classification_override="85.12", signum="KIV", material_code="3"
    )
    # When
    response = client.get(f"/itemdata/{item.barcode}", headers={"x-api-key": station[1]})
    # Then
    assert response.status_code == 200
    body = response.json()
    assert list(body) == LEGACY_FIELDS
    assert body == {
        "item_record_id": item.item_record_id,
        "item_number": item.item_number,
        "barcode": item.barcode,
        "bib_number": item.bib_number,
        "best_author": item.best_author,
        "best_title": item.best_title,
        "itype_code_num": item.itype_code_num,
        "item_type_name": item.item_type_name,
        "material_code": "3",
        "material_name": item.material_name,
        "classification": "85.12",
        "shelfmark": "KIV",
    }


def test_legacy_item_data_with_duplicate_barcodes_answers_the_lowest_live_id(
    client: TestClient, db_session: Session, station: tuple[Client, str]
) -> None:
    # Given
    make_item(db_session, barcode="31234000555555", deleted=True)
    lowest_live = make_item(db_session, barcode="31234000555555")
    make_item(db_session, barcode="31234000555555")
    # When
    response = client.get("/itemdata/31234000555555", headers={"x-api-key": station[1]})
    # Then
    assert response.json()["item_record_id"] == lowest_live.item_record_id


def test_legacy_item_data_unknown_or_deleted_is_404(
    client: TestClient, db_session: Session, station: tuple[Client, str]
) -> None:
    # Given
    deleted = make_item(db_session, deleted=True)
    # When
    unknown = client.get("/itemdata/99999999999999", headers={"x-api-key": station[1]})
    gone = client.get(f"/itemdata/{deleted.barcode}", headers={"x-api-key": station[1]})
    # Then
    assert (unknown.status_code, unknown.content) == (404, NOT_FOUND)
    assert (gone.status_code, gone.content) == (404, NOT_FOUND)


@pytest.mark.parametrize("barcode", ["123", "3123400-000001", "x" * 31])
def test_legacy_item_data_malformed_barcode_is_fastapis_422(
    client: TestClient, reference: TestClient, station: tuple[Client, str], barcode: str
) -> None:
    # Given / When
    response = client.get(f"/itemdata/{barcode}", headers={"x-api-key": station[1]})
    expected = reference.get(f"/itemdata/{barcode}")
    # Then
    assert response.status_code == expected.status_code == 422
    assert response.content == expected.content
    assert response.json()["detail"][0]["loc"] == ["path", "barcode"]


def test_legacy_put_records_a_print_and_queues_the_writeback(
    client: TestClient, db_session: Session, station: tuple[Client, str]
) -> None:
    # Given
    client_row, key = station
    item = make_item(db_session, classification="84.2", signum="KIV")
    # When
    first = client.put(f"/itemdata/{item.item_record_id}", headers={"x-api-key": key})
    second = client.put(f"/itemdata/{item.item_record_id}", headers={"x-api-key": key})
    # Then
    assert (first.status_code, first.content) == (200, b'{"updated":true}')
    assert second.status_code == 200
    events = db_session.scalars(select(LabelEvent).where(LabelEvent.item_record_id == item.item_record_id)).all()
    assert [(event.client_id, event.source, event.classification, event.signum) for event in events] == [
        (client_row.id, "legacy", "84.2", "KIV")
    ] * 2
    db_session.refresh(item)
    assert (item.print_count, item.last_printed_by) == (2, client_row.id)
    entry = db_session.get(WritebackEntry, item.item_record_id)
    assert entry is not None
    assert (entry.status, entry.classification) == (WritebackStatus.QUEUED, "84.2")


@pytest.mark.parametrize("overrides", [{"classification": None}, {"deleted": True}])
def test_legacy_put_without_classification_or_deleted_records_but_does_not_queue(
    client: TestClient, db_session: Session, station: tuple[Client, str], overrides: dict[str, object]
) -> None:
    # Given
    item = make_item(db_session, **overrides)
    # When
    response = client.put(f"/itemdata/{item.item_record_id}", headers={"x-api-key": station[1]})
    # Then
    assert (response.status_code, response.content) == (200, b'{"updated":true}')
    events = db_session.scalars(select(LabelEvent).where(LabelEvent.item_record_id == item.item_record_id)).all()
    assert len(events) == 1
    assert events[0].classification == (item.classification or "")
    assert db_session.get(WritebackEntry, item.item_record_id) is None


def test_legacy_put_accepts_the_database_id_the_sync_agent_uploaded(
    client: TestClient, db_session: Session, station: tuple[Client, str]
) -> None:
    # Given: item 1000123 as the agent's TSV names it (record number + "i" << 32) and as a look-up answers it
    item = make_item(db_session, item_record_id=1_000_123, classification="84.2", signum="KIV")
    database_id = (ord("i") << 32) + 1_000_123
    looked_up = client.get(f"/itemdata/{item.barcode}", headers={"x-api-key": station[1]}).json()["item_record_id"]
    # When
    by_database_id = client.put(f"/itemdata/{database_id}", headers={"x-api-key": station[1]})
    by_record_number = client.put(f"/itemdata/{looked_up}", headers={"x-api-key": station[1]})
    # Then: both are prints of the same item
    assert (by_database_id.status_code, by_database_id.content) == (200, b'{"updated":true}')
    assert (by_record_number.status_code, by_record_number.content) == (200, b'{"updated":true}')
    events = db_session.scalars(select(LabelEvent).where(LabelEvent.item_record_id == 1_000_123)).all()
    assert len(events) == 2
    db_session.refresh(item)
    assert item.print_count == 2
    entry = db_session.get(WritebackEntry, 1_000_123)
    assert entry is not None and entry.status == WritebackStatus.QUEUED


@pytest.mark.parametrize("record_type", ["b", "o"])
def test_legacy_put_database_id_of_another_record_type_is_404(
    client: TestClient, db_session: Session, station: tuple[Client, str], record_type: str
) -> None:
    # Given: an item whose record number equals the low half of a bib's (or order's) database id
    make_item(db_session, item_record_id=1_000_124)
    # When
    response = client.put(f"/itemdata/{(ord(record_type) << 32) + 1_000_124}", headers={"x-api-key": station[1]})
    # Then
    assert (response.status_code, response.content) == (404, NOT_FOUND)
    assert db_session.scalars(select(LabelEvent).where(LabelEvent.item_record_id == 1_000_124)).all() == []


@pytest.mark.parametrize("item_id", ["999999999999", "99999999999999999999999", "0"])
def test_legacy_put_unknown_item_is_404(client: TestClient, station: tuple[Client, str], item_id: str) -> None:
    # Given / When
    response = client.put(f"/itemdata/{item_id}", headers={"x-api-key": station[1]})
    # Then
    assert (response.status_code, response.content) == (404, NOT_FOUND)


def test_legacy_put_non_numeric_id_is_fastapis_422(
    client: TestClient, reference: TestClient, station: tuple[Client, str]
) -> None:
    # Given / When
    response = client.put("/itemdata/abc", headers={"x-api-key": station[1]})
    expected = reference.put("/itemdata/abc")
    # Then
    assert response.status_code == expected.status_code == 422
    assert response.content == expected.content


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/status"), ("GET", "/itemdata/31234000000001"), ("PUT", "/itemdata/450000000001")],
)
def test_legacy_routes_answer_403_for_any_bad_key(
    client: TestClient, db_session: Session, method: str, path: str
) -> None:
    # Given
    item = make_item(db_session, item_record_id=450_000_000_001, barcode="31234000000001")
    _, sync_key = make_client(db_session, role=ClientRole.SYNC)
    _, revoked_key = make_client(db_session, role=ClientRole.PRINTER, revoked_at=datetime.now(UTC))
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    form = STATION_FORM if method == "POST" else None

    def recorded() -> int:
        return len(db_session.scalars(select(LabelEvent).where(LabelEvent.item_record_id == item.item_record_id)).all())

    # When
    refused = [
        client.request(method, path, headers=headers, data=form)
        for headers in ({}, {"x-api-key": "not-a-key-0000000"}, {"x-api-key": revoked_key}, {"x-api-key": sync_key})
    ]
    recorded_while_refused = recorded()
    admitted = client.request(method, path, headers={"x-api-key": admin_key}, data=form)
    # Then
    assert [(answer.status_code, answer.content) for answer in refused] == [(403, FORBIDDEN)] * 4
    assert recorded_while_refused == 0
    assert admitted.status_code == 200
    assert recorded() == (1 if method == "PUT" else 0)


def test_legacy_routes_are_not_under_the_api_envelope(client: TestClient) -> None:
    # Given / When
    response = client.get("/no-such-legacy-path")
    # Then
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
