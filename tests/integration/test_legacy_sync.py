"""The existing sync agent's protocol: GET /sync tells it what to send, POST /sync takes a gzip TSV batch."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.domain import SYNC_JOB_NAME, ClientRole
from tarroitus.models import Item, JobState, SyncUpload
from tarroitus.services.clients import register_client
from tarroitus.settings import Settings
from tests.api_helpers import share_session
from tests.uploads import legacy_row, legacy_tsv_gz, shelfmark_json

BATCH_SIZE = 3
T1 = "2026-11-20T08:00:00+02:00"
T2 = "2026-11-20T09:00:00+02:00"
T3 = "2026-11-21T08:00:00+02:00"


@pytest.fixture
def agent(settings: Settings, db_session: Session) -> Iterator[TestClient]:
    """A TestClient speaking as a registered legacy sync agent (ETL client), batch size 3."""
    app = create_app(settings.model_copy(update={"full_sync_batch_size": BATCH_SIZE}))

    share_session(app, db_session)
    key = register_client(
        db_session, name="agent", role=ClientRole.SYNC, pepper=settings.api_key_pepper.get_secret_value()
    )
    with TestClient(app, raise_server_exceptions=False, headers={"x-api-key": key.api_key}) as test_client:
        yield test_client


def post_batch(agent: TestClient, rows: list[dict[str, Any]], timestamp: str) -> Any:
    """POST /sync the way the agent does: multipart file `file` and form field `timestamp`."""
    files = {"file": ("data.tsv.gz", legacy_tsv_gz(rows), "application/gzip")}
    return agent.post("/sync", files=files, data={"timestamp": timestamp})


def test_legacy_sync_full_pass_then_changes(agent: TestClient, db_session: Session) -> None:
    # Given: a fresh backend
    assert agent.get("/sync").json() == {"sync_mode": "SYNC_FULL", "batch_size": BATCH_SIZE, "last_synced_id": 0}
    # When: a full batch, then a short one
    first = post_batch(agent, [legacy_row(10), legacy_row(11), legacy_row(12)], T1)
    plan_after_first = agent.get("/sync").json()
    second = post_batch(agent, [legacy_row(13)], T2)
    # Then
    assert (first.status_code, first.json()) == (200, {"upserted": 3})
    assert plan_after_first == {"sync_mode": "SYNC_FULL", "batch_size": BATCH_SIZE, "last_synced_id": 12}
    assert second.json() == {"upserted": 1}
    plan = agent.get("/sync").json()
    assert plan["sync_mode"] == "SYNC_CHANGES"
    assert datetime.fromisoformat(plan["timestamp"]) == datetime.fromisoformat(T1)
    assert db_session.scalar(select(func.count()).select_from(Item)) == 4
    item = db_session.get(Item, 13)
    assert item is not None
    assert (item.signum, item.classification, item.best_title) == ("JAN", "84.2", "Taikurin hattu")


def test_legacy_sync_changes_batch_moves_the_watermark(agent: TestClient, db_session: Session) -> None:
    # Given: the full pass is done
    post_batch(agent, [], T1)
    # When
    response = post_batch(agent, [legacy_row(20, best_title="Muutettu")], T3)
    # Then
    assert response.json() == {"upserted": 1}
    state = db_session.get(JobState, SYNC_JOB_NAME, populate_existing=True)
    assert state is not None
    assert state.changes_since == datetime.fromisoformat(T3).astimezone(UTC)


def test_legacy_sync_bad_file_is_rejected_whole(agent: TestClient, db_session: Session) -> None:
    # Given
    rows = [legacy_row(30), legacy_row(31), legacy_row(32, itype_code_num="kirja")]
    # When
    response = post_batch(agent, rows, T1)
    not_gzip = agent.post("/sync", files={"file": ("data.tsv.gz", b"plain text", "text/plain")}, data={"timestamp": T1})
    # Then
    assert response.status_code == 400
    assert response.json()["detail"].startswith("line 4: itype_code_num must be an integer")
    assert not_gzip.status_code == 400
    assert "gzip" in not_gzip.json()["detail"]
    assert db_session.scalar(select(func.count()).select_from(Item)) == 0
    assert agent.get("/sync").json()["last_synced_id"] == 0


def test_legacy_sync_repeated_upload_is_not_applied_again(agent: TestClient, db_session: Session) -> None:
    # Given: a batch was applied, then the item changed locally
    rows = [legacy_row(40), legacy_row(41), legacy_row(42)]
    post_batch(agent, rows, T1)
    item = db_session.get(Item, 40)
    assert item is not None
    item.best_title = "Changed since"
    db_session.flush()
    # When: the agent retries the same batch
    again = post_batch(agent, rows, T1)
    # Then
    assert again.json() == {"upserted": 3}
    assert db_session.get(Item, 40, populate_existing=True).best_title == "Changed since"  # type: ignore[union-attr]
    assert db_session.scalar(select(func.count()).select_from(SyncUpload)) == 1


def test_legacy_sync_refuses_unknown_keys_and_printers(
    agent: TestClient, settings: Settings, db_session: Session
) -> None:
    # Given
    printer = register_client(
        db_session, name="station", role=ClientRole.PRINTER, pepper=settings.api_key_pepper.get_secret_value()
    )
    # When
    unknown = agent.get("/sync", headers={"x-api-key": "nope"})
    as_printer = post_batch_as(agent, printer.api_key)
    # Then
    assert (unknown.status_code, unknown.json()) == (403, {"detail": "Invalid x-api-key"})
    assert (as_printer.status_code, as_printer.json()) == (403, {"detail": "Invalid x-api-key"})


def test_legacy_sync_recompressed_repeat_is_recognised(agent: TestClient, db_session: Session) -> None:
    # Given: a batch was applied, then the item changed locally
    rows = [legacy_row(50), legacy_row(51)]
    first = legacy_tsv_gz(rows, mtime=1_700_000_000)
    again = legacy_tsv_gz(rows, mtime=1_700_000_060)
    assert first != again
    agent.post("/sync", files={"file": ("data.tsv.gz", first, "application/gzip")}, data={"timestamp": T1})
    item = db_session.get(Item, 50)
    assert item is not None
    item.best_title = "Changed since"
    db_session.flush()
    # When: the agent re-sends the same batch, compressed again a minute later
    response = agent.post("/sync", files={"file": ("data.tsv.gz", again, "application/gzip")}, data={"timestamp": T1})
    # Then
    assert response.json() == {"upserted": 2}
    assert db_session.get(Item, 50, populate_existing=True).best_title == "Changed since"  # type: ignore[union-attr]


def post_batch_as(agent: TestClient, key: str) -> Any:
    """POST a one-row batch with another client's key."""
    files = {"file": ("data.tsv.gz", legacy_tsv_gz([legacy_row(1)]), "application/gzip")}
    return agent.post("/sync", files=files, data={"timestamp": T1}, headers={"x-api-key": key})


@pytest.mark.parametrize(
    ("timestamp", "problem"),
    [
        ("9999-12-31T00:00:00+00:00", "ahead of the server's clock"),
        ("1970-01-01T00:00:00+00:00", "before 2000-01-01"),
        ("1999-12-31T23:59:59Z", "before 2000-01-01"),
    ],
)
def test_legacy_sync_refuses_a_timestamp_outside_the_window(
    agent: TestClient, db_session: Session, timestamp: str, problem: str
) -> None:
    # Given: a fresh backend
    before = agent.get("/sync").json()
    # When
    response = post_batch(agent, [legacy_row(60)], timestamp)
    # Then: 400 naming the field, and nothing written or moved
    assert response.status_code == 400
    assert response.json()["detail"].startswith("timestamp ")
    assert problem in response.json()["detail"]
    assert db_session.scalar(select(func.count()).select_from(Item)) == 0
    assert agent.get("/sync").json() == before


def test_legacy_sync_accepts_a_timestamp_a_little_ahead_of_the_clock(agent: TestClient) -> None:
    # Given: the agent's clock runs a minute fast, well inside the allowed five minutes
    post_batch(agent, [], T1)
    ahead = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    # When
    response = post_batch(agent, [legacy_row(61)], ahead)
    # Then
    assert response.json() == {"upserted": 1}
    assert datetime.fromisoformat(agent.get("/sync").json()["timestamp"]) == datetime.fromisoformat(ahead)


def test_legacy_print_by_the_database_id_the_agent_uploaded(
    agent: TestClient, settings: Settings, db_session: Session
) -> None:
    # Given: the agent uploads an item under its SierraDNA database id (record number + "i" << 32)
    database_id = (ord("i") << 32) + 1_000_060
    post_batch(agent, [legacy_row(database_id, bib_record_id=(ord("b") << 32) + 3_000_060)], T1)
    station = register_client(
        db_session, name="station", role=ClientRole.PRINTER, pepper=settings.api_key_pepper.get_secret_value()
    )
    # When: a station reports the print under that same id
    response = agent.put(f"/itemdata/{database_id}", headers={"x-api-key": station.api_key})
    # Then: the print lands on the item, stored under its record number
    assert (response.status_code, response.json()) == (200, {"updated": True})
    item = db_session.get(Item, 1_000_060, populate_existing=True)
    assert item is not None and (item.print_count, item.bib_record_id) == (1, 3_000_060)


def test_legacy_sync_stores_the_main_entry_and_text_exactly(agent: TestClient, db_session: Session) -> None:
    # Given: non-ASCII, quotes, a backslash and a tab in the cells and in the main entry
    author = 'Достоевский, "Фёдор" \\ Ø\tÅ'
    rows = [legacy_row(31, best_title="Rikos ja rangaistus — ½", shelfmark_json=shelfmark_json(author))]
    # When
    response = post_batch(agent, rows, T1)
    # Then
    assert response.json() == {"upserted": 1}
    item = db_session.get(Item, 31, populate_existing=True)
    assert item is not None
    assert item.best_title == "Rikos ja rangaistus — ½"
    assert item.main_entry == [
        {"fieldTag": "a", "marcTag": "100", "ind1": "1", "ind2": " ", "subfields": [{"tag": "a", "content": author}]}
    ]
    assert item.signum == "DOS"
