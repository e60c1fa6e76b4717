"""POST /api/v1/status/heartbeat and GET /api/v1/status against PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.domain import ETL_JOB_NAME, SYNC_JOB_NAME, WRITEBACK_JOB_NAME, ClientRole, SyncMode, WritebackStatus
from tarroitus.models import WritebackEntry
from tarroitus.repositories import job_state
from tarroitus.repositories.writeback import enqueue_item
from tests.api_helpers import assert_api_error, key_header
from tests.factories import make_client, make_item


def test_create_heartbeat_updates_last_seen_and_what_the_client_reports(
    client: TestClient, db_session: Session
) -> None:
    # Given
    station, key = make_client(db_session, role=ClientRole.PRINTER, name="station-hb")
    body = {"client_version": "2.4.1", "host_name": "pasila-ws-03", "printer_state": "ready"}
    # When
    response = client.post("/api/v1/status/heartbeat", headers=key_header(key), json=body)
    # Then
    assert response.status_code == 200, response.text
    reported = response.json()
    assert (reported["client_version"], reported["host_name"], reported["printer_state"]) == (
        "2.4.1",
        "pasila-ws-03",
        "ready",
    )
    assert reported["ip_address"] == "testclient"
    db_session.refresh(station)
    assert station.last_seen_at is not None
    assert abs((datetime.now(UTC) - station.last_seen_at).total_seconds()) < 60


def test_create_heartbeat_without_body_keeps_what_was_reported(client: TestClient, db_session: Session) -> None:
    # Given
    agent, key = make_client(db_session, role=ClientRole.SYNC, client_version="1.0", host_name="etl-host")
    # When
    response = client.post("/api/v1/status/heartbeat", headers=key_header(key))
    # Then
    assert response.status_code == 200
    assert (response.json()["client_version"], response.json()["host_name"]) == ("1.0", "etl-host")
    db_session.refresh(agent)
    assert (agent.client_version, agent.host_name) == ("1.0", "etl-host")
    assert agent.last_seen_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_version": 2}, "body.client_version"),
        ({"host_name": "h" * 256}, "body.host_name"),
        ({"printer_state": ["ready"]}, "body.printer_state"),
        ({"unknown": "x"}, "body.unknown"),
        ("just a string", "body"),
    ],
)
def test_create_heartbeat_bad_body_is_422(client: TestClient, db_session: Session, body: object, field: str) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    # When
    response = client.post("/api/v1/status/heartbeat", headers=key_header(key), json=body)
    # Then
    error = assert_api_error(response, 422, "invalid_input")
    assert field in [detail["field"] for detail in error["details"]]


def test_create_heartbeat_auth_matrix(client: TestClient, db_session: Session) -> None:
    # Given
    _, revoked_key = make_client(db_session, role=ClientRole.PRINTER, revoked_at=datetime.now(UTC))
    keys = [make_client(db_session, role=role)[1] for role in ClientRole]
    # When / Then
    assert_api_error(client.post("/api/v1/status/heartbeat"), 401, "not_authenticated")
    assert_api_error(
        client.post("/api/v1/status/heartbeat", headers=key_header("wrong-key-0000000")), 401, "not_authenticated"
    )
    assert_api_error(client.post("/api/v1/status/heartbeat", headers=key_header(revoked_key)), 401, "not_authenticated")
    assert [client.post("/api/v1/status/heartbeat", headers=key_header(key)).status_code for key in keys] == [200] * 3


def test_read_status_reports_jobs_progress_queue_and_clients(client: TestClient, db_session: Session) -> None:
    # Given
    now = datetime.now(UTC)
    station, station_key = make_client(db_session, role=ClientRole.PRINTER, name="station-status")
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    sync_state = job_state.get_or_create(db_session, job_name=SYNC_JOB_NAME)
    sync_state.mode = SyncMode.CHANGES
    run = job_state.add_run(db_session, job_name=SYNC_JOB_NAME, started_at=now - timedelta(minutes=2))
    job_state.finish_run(
        db_session,
        run_id=run.id,
        job_name=SYNC_JOB_NAME,
        finished_at=now - timedelta(minutes=1),
        outcome="succeeded",
        counts={"items": 12},
        error=None,
    )
    printed = make_item(db_session)
    client.post(f"/api/v1/items/{printed.item_record_id}/labels", headers=key_header(station_key))
    done, dead = make_item(db_session, print_count=1), make_item(db_session, print_count=1)
    for item, status in ((done, WritebackStatus.DONE), (dead, WritebackStatus.DEAD)):
        enqueue_item(db_session, item_record_id=item.item_record_id, classification="84.2")
        entry = db_session.get(WritebackEntry, item.item_record_id)
        assert entry is not None
        entry.status = status
    make_item(db_session, classification=None)
    make_item(db_session, deleted=True, print_count=3)
    db_session.flush()
    client.post("/api/v1/status/heartbeat", headers=key_header(station_key), json={"client_version": "3.0"})
    # When
    response = client.get("/api/v1/status", headers=key_header(admin_key))
    # Then
    assert response.status_code == 200, response.text
    status_body = response.json()
    assert status_body["sync_mode"] == "changes"
    jobs = {job["job_name"]: job for job in status_body["jobs"]}
    assert list(jobs)[:3] == [SYNC_JOB_NAME, WRITEBACK_JOB_NAME, ETL_JOB_NAME]
    assert jobs[SYNC_JOB_NAME]["last_run_outcome"] == "succeeded"
    assert jobs[SYNC_JOB_NAME]["recent_runs"][0]["counts"] == {"items": 12}
    assert jobs[ETL_JOB_NAME]["recent_runs"] == []
    assert status_body["items"] == {
        "total": 4,
        "with_classification": 3,
        "printed": 3,
        "reprint_needed": 0,
        "written_back": 1,
        "writeback_failed": 1,
    }
    queue = status_body["writeback_queue"]
    assert (queue["depth"], queue["queued"], queue["in_progress"]) == (1, 1, 0)
    assert queue["oldest_age_seconds"] >= 0
    listed = {listed["name"]: listed for listed in status_body["clients"]}
    assert listed["station-status"]["client_version"] == "3.0"
    assert listed["station-status"]["last_seen_at"] is not None
    assert station.name in listed


def test_read_status_on_an_empty_backend(client: TestClient, db_session: Session) -> None:
    # Given
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    # When
    status_body = client.get("/api/v1/status", headers=key_header(admin_key)).json()
    # Then
    assert status_body["sync_mode"] is None
    assert status_body["items"]["total"] == 0
    assert status_body["writeback_queue"] == {
        "depth": 0,
        "queued": 0,
        "in_progress": 0,
        "oldest_queued_at": None,
        "oldest_age_seconds": None,
    }
    assert [job["last_run_outcome"] for job in status_body["jobs"]] == [None, None, None]


def test_read_status_auth_matrix(client: TestClient, db_session: Session) -> None:
    # Given
    _, printer_key = make_client(db_session, role=ClientRole.PRINTER)
    _, sync_key = make_client(db_session, role=ClientRole.SYNC)
    _, revoked_key = make_client(db_session, role=ClientRole.ADMIN, revoked_at=datetime.now(UTC))
    # When / Then
    assert_api_error(client.get("/api/v1/status"), 401, "not_authenticated")
    assert_api_error(client.get("/api/v1/status", headers=key_header("wrong-key-0000000")), 401, "not_authenticated")
    assert_api_error(client.get("/api/v1/status", headers=key_header(revoked_key)), 401, "not_authenticated")
    assert_api_error(client.get("/api/v1/status", headers=key_header(printer_key)), 403, "forbidden")
    assert_api_error(client.get("/api/v1/status", headers=key_header(sync_key)), 403, "forbidden")
