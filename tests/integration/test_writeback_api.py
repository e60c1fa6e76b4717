"""GET /api/v1/writeback and POST /api/v1/writeback/retry: the operator's view of the queue."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole, WritebackStatus
from tarroitus.models import JobRun
from tarroitus.repositories import writeback as queue
from tarroitus.services.clients import register_client
from tarroitus.settings import Settings
from tests.factories import barcode_for, make_item

NOW = datetime.now(UTC)


def api_key(session: Session, settings: Settings, role: ClientRole) -> dict[str, str]:
    issued = register_client(
        session, name=f"{role.value}-client", role=role, pepper=settings.api_key_pepper.get_secret_value()
    )
    return {"X-API-Key": issued.api_key}


def given_a_worked_queue(session: Session) -> None:
    """Items 1-2 queued, 3 done, 4 dead-lettered, 5 in progress, 6 waiting for a retry after a 409."""
    for item_id in range(1, 7):
        make_item(session, item_record_id=item_id, location_code="pas", location_name="Pasila aikuiset")
    for item_id in range(1, 7):
        queue.enqueue_item(session, item_record_id=item_id, classification=f"84.{item_id}", now=NOW)
    queue.claim_batch(session, owner="run-a", now=NOW, limit=10)
    queue.release_claims(session, owner="run-a", item_record_ids=[1, 2])
    queue.mark_done(session, item_record_id=3, owner="run-a", now=NOW, sierra_updated_at=NOW)
    queue.dead_letter(
        session,
        item_record_id=4,
        owner="run-a",
        now=NOW,
        error_code=116,
        error="HTTP 400 code 116",
        written_parts=["call_number", "internal_use"],
        refused_parts=["inventory_date"],
    )
    queue.add_attempt(
        session,
        item_record_id=4,
        attempted_at=NOW,
        outcome="dead_lettered",
        classification="84.4",
        http_status=400,
        sierra_code=116,
        error="HTTP 400 code 116: Invalid record id",
        written_parts=["call_number", "internal_use"],
        refused_parts=["inventory_date"],
    )
    queue.schedule_retry(
        session,
        item_record_id=6,
        owner="run-a",
        next_attempt_at=NOW + timedelta(hours=1),
        error_code=133,
        error="HTTP 409 code 133",
    )
    session.add(JobRun(job_name="sierra_writeback", started_at=NOW, outcome="partial", counts={"written": 1}))
    session.flush()


def test_read_writeback_reports_depth_in_flight_dead_letters_and_failures(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    # Given
    headers = api_key(db_session, settings, ClientRole.ADMIN)
    given_a_worked_queue(db_session)
    # When
    response = client.get("/api/v1/writeback", headers=headers)
    # Then
    assert response.status_code == 200
    body = response.json()
    counts = {key: body[key] for key in ("queued", "due", "waiting_retry", "in_progress", "done", "dead")}
    assert counts == {"queued": 3, "due": 2, "waiting_retry": 1, "in_progress": 1, "done": 1, "dead": 1}
    assert [(d["item_record_id"], d["last_error_code"], d["classification"]) for d in body["dead_letters"]] == [
        (4, 116, "84.4")
    ]
    assert (body["dead_letters"][0]["written_parts"], body["dead_letters"][0]["refused_parts"]) == (
        ["call_number", "internal_use"],
        ["inventory_date"],
    )
    dead_item = {key: body["dead_letters"][0][key] for key in ("barcode", "title", "item_number", "location_code")}
    assert dead_item == {
        "barcode": barcode_for(4),
        "title": "Seitsemän veljestä",
        "item_number": "i00000004",
        "location_code": "pas",
    }
    assert body["dead_letters"][0]["location_name"] == "Pasila aikuiset"
    assert body["recent_failures"][0]["error"] == "HTTP 400 code 116: Invalid record id"
    assert (body["recent_failures"][0]["written_parts"], body["recent_failures"][0]["refused_parts"]) == (
        ["call_number", "internal_use"],
        ["inventory_date"],
    )
    assert (body["recent_failures"][0]["http_status"], body["recent_failures"][0]["sierra_code"]) == (400, 116)
    assert body["last_run"]["outcome"] == "partial"
    assert body["last_run"]["counts"] == {"written": 1}


def test_writeback_routes_are_for_admins_only(client: TestClient, db_session: Session, settings: Settings) -> None:
    # Given a printer station's key
    headers = api_key(db_session, settings, ClientRole.PRINTER)
    # When / Then
    assert client.get("/api/v1/writeback").status_code == 401
    assert client.get("/api/v1/writeback", headers=headers).status_code == 403
    assert client.post("/api/v1/writeback/retry", headers=headers, json={"all": True}).status_code == 403


def test_create_writeback_retry_requeues_the_named_dead_letters(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    # Given
    headers = api_key(db_session, settings, ClientRole.ADMIN)
    given_a_worked_queue(db_session)
    # When
    response = client.post("/api/v1/writeback/retry", headers=headers, json={"item_record_ids": [4, 3, 99]})
    # Then
    assert response.status_code == 200
    assert response.json() == {"requeued": [4], "requeued_count": 1, "not_dead": [3, 99]}
    row = queue.get_entry(db_session, item_record_id=4)
    assert row is not None
    assert (row.status, row.attempts) == (WritebackStatus.QUEUED, 0)


def test_create_writeback_retry_all(client: TestClient, db_session: Session, settings: Settings) -> None:
    # Given
    headers = api_key(db_session, settings, ClientRole.ADMIN)
    given_a_worked_queue(db_session)
    # When
    response = client.post("/api/v1/writeback/retry", headers=headers, json={"all": True})
    # Then
    assert response.json() == {"requeued": [4], "requeued_count": 1, "not_dead": []}
    assert client.get("/api/v1/writeback", headers=headers).json()["dead"] == 0


def test_create_writeback_retry_needs_exactly_one_selection(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    # Given
    headers = api_key(db_session, settings, ClientRole.ADMIN)
    # When / Then
    for body in ({}, {"all": True, "item_record_ids": [1]}, {"item_record_ids": []}):
        response = client.post("/api/v1/writeback/retry", headers=headers, json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_input"
