"""The go-live dry run: `python -m tarroitus writeback --dry-run --items N` and `GET /api/v1/writeback/dry-run`.

Both read the next queued items from the configured Sierra (the simulator) and show the current call number,
the PUT body the writeback would send and the resulting call number, writing nothing to Sierra or the queue.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.cli import main
from tarroitus.domain import ClientRole
from tarroitus.models import Item, JobRun, WritebackAttempt, WritebackEntry
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.clients import register_client
from tarroitus.settings import Settings, get_settings
from tests.api_helpers import share_session
from tests.integration.test_writeback_real_sierra import ITEM_WITH_090_AND_EMPTY_NOTE, on_simulator
from tests.sierra_fixtures import RunningSimulator

CLASSIFICATION = "678.90"


def queue_rows(engine: Engine) -> list[tuple[Any, ...]]:
    """Every column of every queue row, to show a dry run changed none."""
    with Session(engine) as session:
        rows = session.scalars(select(WritebackEntry).order_by(WritebackEntry.item_record_id)).all()
        return [tuple(getattr(row, column.key) for column in WritebackEntry.__table__.columns) for row in rows]


def live_ids(simulator: RunningSimulator, count: int, start: int) -> list[int]:
    ids = []
    for item_id in range(start, simulator.store.last_item_id + 1):
        if not (simulator.store.get_item_raw(item_id) or {"deleted": True}).get("deleted"):
            ids.append(item_id)
        if len(ids) == count:
            return ids
    raise AssertionError("too few live items")


def queue_in(session: Session, ids: list[int]) -> None:
    session.add_all(Item(item_record_id=item_id) for item_id in ids)
    session.flush()
    for item_id in ids:
        queue.enqueue_item(session, item_record_id=item_id, classification=CLASSIFICATION)


@pytest.fixture
def cli_on_simulator(monkeypatch: pytest.MonkeyPatch, sierra_simulator: RunningSimulator) -> Iterator[None]:
    """The command line's settings point at the simulator."""
    monkeypatch.setenv("SIERRA_API_ENDPOINT", sierra_simulator.base_url)
    monkeypatch.setenv("SIERRA_API_CLIENT_KEY", sierra_simulator.config.client_key)
    monkeypatch.setenv("SIERRA_API_CLIENT_SECRET", sierra_simulator.config.client_secret)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_on_simulator")
def test_cli_dry_run_shows_the_next_items_and_writes_nothing(
    committed_db: Engine,
    sierra_simulator: RunningSimulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given six queued items, the first with a c/090 call number and a note with no subfields
    ids = [ITEM_WITH_090_AND_EMPTY_NOTE, *live_ids(sierra_simulator, 5, ITEM_WITH_090_AND_EMPTY_NOTE + 1)]
    with session_scope(committed_db) as session:
        queue_in(session, ids)
    queue_before = queue_rows(committed_db)
    # When
    exit_code = main(["writeback", "--dry-run", "--items", "5"])
    # Then five items are shown with what would be sent
    assert exit_code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["dry_run"] is True
    assert [item["item_record_id"] for item in printed["items"]] == ids[:5]
    first = printed["items"][0]
    raw = sierra_simulator.store.get_item_raw(ITEM_WITH_090_AND_EMPTY_NOTE)
    assert raw is not None
    old_text = raw["callNumber"].split(" ", 1)[1]
    assert first["current_call_number"] == raw["callNumber"]
    assert first["resulting_call_number"] == f"|a{CLASSIFICATION} {old_text}"
    assert first["put_body"]["varFields"] == [
        {
            "fieldTag": "c",
            "marcTag": "090",
            "ind1": " ",
            "ind2": " ",
            "subfields": [{"tag": "a", "content": f"{CLASSIFICATION} {old_text}"}],
        }
    ]
    assert set(first["put_body"]) == {"varFields", "inventoryDate", "fixedFields"}
    assert all(item["error"] is None and item["put_body"] for item in printed["items"])
    # And nothing changed in Sierra or in the queue
    assert sierra_simulator.store.put_log == []
    assert sierra_simulator.store.overlay_item_count == 0
    assert queue_rows(committed_db) == queue_before
    with Session(committed_db) as session:
        assert session.scalars(select(WritebackAttempt)).all() == []
        assert session.scalars(select(JobRun)).all() == []


@pytest.mark.usefixtures("cli_on_simulator")
def test_cli_writes_one_item_and_reads_it_back(
    committed_db: Engine,
    sierra_simulator: RunningSimulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given three queued items
    ids = live_ids(sierra_simulator, 3, sierra_simulator.store.first_item_id)
    with session_scope(committed_db) as session:
        queue_in(session, ids)
    # When one is written from the command line
    exit_code = main(["writeback", "--items", "1"])
    # Then that one is in Sierra, read back, and the others still wait
    assert exit_code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["run"]["outcome"] == "succeeded"
    (item,) = printed["items"]
    assert (item["item_record_id"], item["status"], item["internal_use"]) == (ids[0], "done", "1")
    (call_number,) = item["call_number_fields"]
    assert call_number.removeprefix("|a").startswith(CLASSIFICATION)
    assert item["inventory_date"]
    assert set(sierra_simulator.store.put_counts()) == {ids[0]}
    with Session(committed_db) as session:
        statuses = {row.item_record_id: row.status.value for row in session.scalars(select(WritebackEntry))}
    assert statuses == {ids[0]: "done", ids[1]: "queued", ids[2]: "queued"}


def test_cli_dry_run_refuses_a_bad_item_count(capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When / Then
    with pytest.raises(SystemExit) as stopped:
        main(["writeback", "--dry-run", "--items", "0"])
    assert stopped.value.code == 2
    assert "from 1 to 500" in capsys.readouterr().err


@pytest.fixture
def app_on_simulator(settings: Settings, db_session: Session, sierra_simulator: RunningSimulator) -> FastAPI:
    """The app configured for the simulator, every request sharing the test's rolled-back session."""
    application = create_app(on_simulator(settings, sierra_simulator))

    share_session(application, db_session)
    return application


def admin_headers(session: Session, settings: Settings, role: ClientRole = ClientRole.ADMIN) -> dict[str, str]:
    issued = register_client(
        session, name=f"{role.value}", role=role, pepper=settings.api_key_pepper.get_secret_value()
    )
    return {"X-API-Key": issued.api_key}


def test_api_dry_run_shows_the_next_items_and_writes_nothing(
    app_on_simulator: FastAPI, db_session: Session, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given four queued items, one of them deleted in Sierra since it was labelled
    ids = live_ids(sierra_simulator, 4, sierra_simulator.store.first_item_id)
    queue_in(db_session, ids)
    sierra_simulator.store.delete_item(ids[1])
    headers = admin_headers(db_session, settings)
    before = [(row.status, row.attempts, row.claimed_by) for row in db_session.scalars(select(WritebackEntry))]
    # When
    with TestClient(app_on_simulator, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/writeback/dry-run", params={"items": 3}, headers=headers)
    # Then three are shown; the deleted one says why it cannot be written
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["item_record_id"] for item in items] == ids[:3]
    assert items[0]["put_body"]["inventoryDate"]
    assert items[0]["resulting_call_number"].removeprefix("|a").startswith(CLASSIFICATION)
    assert "deleted in Sierra" in items[1]["error"]
    assert items[1]["put_body"] is None
    # And nothing was written or claimed
    assert sierra_simulator.store.put_log == []
    after = [(row.status, row.attempts, row.claimed_by) for row in db_session.scalars(select(WritebackEntry))]
    assert after == before


def test_api_dry_run_is_for_admins_and_checks_its_input(
    app_on_simulator: FastAPI, db_session: Session, settings: Settings
) -> None:
    # Given
    printer = admin_headers(db_session, settings, ClientRole.PRINTER)
    admin = admin_headers(db_session, settings)
    # When / Then
    with TestClient(app_on_simulator, raise_server_exceptions=False) as client:
        assert client.get("/api/v1/writeback/dry-run").status_code == 401
        assert client.get("/api/v1/writeback/dry-run", headers=printer).status_code == 403
        too_many = client.get("/api/v1/writeback/dry-run", params={"items": 51}, headers=admin)
    assert too_many.status_code == 422
    assert too_many.json()["error"]["details"][0]["field"].endswith("items")


def test_api_dry_run_answers_503_when_sierra_is_unavailable(
    app_on_simulator: FastAPI, db_session: Session, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given a queued item and Sierra in a maintenance window
    queue_in(db_session, live_ids(sierra_simulator, 1, sierra_simulator.store.first_item_id))
    sierra_simulator.set_faults(maintenance=True)
    headers = admin_headers(db_session, settings)
    # When
    with TestClient(app_on_simulator, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/writeback/dry-run", headers=headers)
    # Then
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "sierra_unavailable"
    assert "maintenance window" in error["message"]
