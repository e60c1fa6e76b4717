"""GraphQL admin queries (clients, status) against PostgreSQL, checked against the REST answers."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.domain import SYNC_JOB_NAME, ClientRole, SyncMode, WritebackStatus
from tarroitus.models import WritebackEntry
from tarroitus.repositories import job_state
from tarroitus.repositories.writeback import enqueue_item
from tarroitus.services.status import Heartbeat, record_heartbeat
from tests.api_helpers import key_header
from tests.factories import make_client, make_item
from tests.graphql_helpers import query_data

STATUS_QUERY = """{
  status {
    serverTime syncMode
    jobs { jobName mode fullSyncCursor lastRunOutcome recentRuns { outcome counts startedAt finishedAt error } }
    items { total withClassification printed writtenBack writebackFailed }
    writebackQueue { depth queued inProgress oldestQueuedAt oldestAgeSeconds }
    clients { name role lastSeenAt }
  }
}"""


def test_graphql_clients_lists_every_client_without_key_material(client: TestClient, db_session: Session) -> None:
    # Given
    station, _ = make_client(db_session, role=ClientRole.PRINTER, name="gq-station")
    record_heartbeat(db_session, client=station, heartbeat=Heartbeat(client_version="2.4.1", host_name="ws-03"))
    make_client(db_session, role=ClientRole.SYNC, name="gq-revoked", revoked_at=datetime.now(UTC))
    admin, admin_key = make_client(db_session, role=ClientRole.ADMIN, name="gq-admin")
    # When
    data = query_data(
        client,
        "{ clients { id name role active revokedAt lastSeenAt clientVersion hostName printerState } }",
        api_key=admin_key,
    )
    # Then
    listed = {found["name"]: found for found in data["clients"]}
    rest = {
        found["name"]: found for found in client.get("/api/v1/clients", headers=key_header(admin_key)).json()["data"]
    }
    assert list(listed) == list(rest)
    assert listed["gq-station"]["role"] == "PRINTER"
    assert (listed["gq-station"]["clientVersion"], listed["gq-station"]["hostName"]) == ("2.4.1", "ws-03")
    assert listed["gq-station"]["lastSeenAt"] is not None
    assert (listed["gq-revoked"]["active"], listed["gq-revoked"]["role"]) == (False, "SYNC")
    assert listed["gq-admin"]["id"] == str(admin.id)


def test_graphql_client_type_exposes_nothing_about_keys(client: TestClient, db_session: Session) -> None:
    # Given
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    # When
    data = query_data(client, '{ __type(name: "Client") { fields { name } } }', api_key=admin_key)
    # Then
    names = [field["name"] for field in data["__type"]["fields"]]
    assert "name" in names
    assert [name for name in names if "key" in name.lower() or "hash" in name.lower()] == []


def test_graphql_status_matches_the_rest_status(client: TestClient, db_session: Session) -> None:
    # Given
    now = datetime.now(UTC)
    station, _ = make_client(db_session, role=ClientRole.PRINTER, name="gq-status-station")
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    state = job_state.get_or_create(db_session, job_name=SYNC_JOB_NAME)
    state.mode = SyncMode.CHANGES
    state.full_sync_cursor = 450_000_000_123
    run = job_state.add_run(db_session, job_name=SYNC_JOB_NAME, started_at=now - timedelta(minutes=3))
    job_state.finish_run(
        db_session,
        run_id=run.id,
        job_name=SYNC_JOB_NAME,
        finished_at=now - timedelta(minutes=2),
        outcome="succeeded",
        counts={"items": 7, "bibs": 3},
        error=None,
    )
    for status in (WritebackStatus.QUEUED, WritebackStatus.DONE, WritebackStatus.DEAD):
        item = make_item(db_session, print_count=1)
        enqueue_item(db_session, item_record_id=item.item_record_id, classification="84.2")
        entry = db_session.get(WritebackEntry, item.item_record_id)
        assert entry is not None
        entry.status = status
    make_item(db_session, classification=None)
    db_session.flush()
    rest = client.get("/api/v1/status", headers=key_header(admin_key)).json()
    # When
    status_data = query_data(client, STATUS_QUERY, api_key=admin_key)["status"]
    # Then
    assert status_data["syncMode"] == "CHANGES"
    assert status_data["items"] == {
        "total": rest["items"]["total"],
        "withClassification": rest["items"]["with_classification"],
        "printed": rest["items"]["printed"],
        "writtenBack": rest["items"]["written_back"],
        "writebackFailed": rest["items"]["writeback_failed"],
    }
    assert (status_data["items"]["total"], status_data["items"]["writebackFailed"]) == (4, 1)
    queue = status_data["writebackQueue"]
    assert (queue["depth"], queue["queued"], queue["inProgress"]) == (1, 1, 0)
    jobs = {job["jobName"]: job for job in status_data["jobs"]}
    assert [job["job_name"] for job in rest["jobs"]] == list(jobs)
    assert jobs[SYNC_JOB_NAME]["fullSyncCursor"] == 450_000_000_123
    assert jobs[SYNC_JOB_NAME]["lastRunOutcome"] == "succeeded"
    assert jobs[SYNC_JOB_NAME]["recentRuns"][0]["counts"] == {"items": 7, "bibs": 3}
    assert station.name in {listed["name"] for listed in status_data["clients"]}


def test_graphql_status_on_an_empty_backend(client: TestClient, db_session: Session) -> None:
    # Given
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    # When
    status_data = query_data(client, STATUS_QUERY, api_key=admin_key)["status"]
    # Then
    assert status_data["syncMode"] is None
    assert status_data["items"]["total"] == 0
    assert status_data["writebackQueue"]["oldestQueuedAt"] is None
    assert [job["mode"] for job in status_data["jobs"]] == [None] * len(status_data["jobs"])
