"""The changes pass against the Sierra simulator: edits, bib edits, deletions, own writebacks, reruns."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from tarroitus.domain import SYNC_JOB_NAME, SyncMode, WritebackStatus
from tarroitus.models import Item, JobState, WritebackEntry
from tarroitus.repositories.writeback import enqueue_item
from tests.sierra_fixtures import RunningSimulator
from tests.sync_helpers import PageBudget, differences, expected_rows, row_versions, run_sync, stored_rows


def first_live_items(simulator: RunningSimulator, count: int) -> list[int]:
    """The lowest ids of items that are not deleted and have a bib."""
    found = []
    for item_id in range(simulator.store.first_item_id, simulator.store.last_item_id):
        raw = simulator.store.get_item_raw(item_id)
        if raw and not raw.get("deleted") and raw.get("bibIds"):
            found.append(item_id)
        if len(found) == count:
            return found
    raise AssertionError("not enough live items")


def full_sync(engine: Engine, simulator: RunningSimulator) -> None:
    """Complete a full pass so that the next run is a changes pass."""
    assert run_sync(engine, simulator.client())["outcome"] == "succeeded"


def set_print_count(engine: Engine, item_id: int, count: int) -> None:
    """Give an item some label history."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE items SET print_count = :count, last_printed_at = now() WHERE item_record_id = :id"),
            {"count": count, "id": item_id},
        )


def edit_catalogue(simulator: RunningSimulator) -> dict[str, Any]:
    """Staff edits in Sierra: an item's location and barcode, a bib's 097 and title, a deletion."""
    store = simulator.store
    edited, other, deleted = first_live_items(simulator, 3)
    store.edit_item(edited, location={"code": "h01aa", "name": "Oodi aikuisten aineisto"}, barcode="NEW-BARCODE-1")
    bib_id = store.bib_id_for_item(other)
    assert bib_id is not None
    store.edit_bib(bib_id, classification="99.9", title="Uusi nimeke")
    store.delete_item(deleted)
    return {"edited": edited, "bib": bib_id, "bib_items": store.item_ids_for_bib(bib_id), "deleted": deleted}


def expected_after_changes(simulator: RunningSimulator, deleted_rows: dict[int, Any]) -> Any:
    """The simulator's rows, except that items deleted after we stored them keep their data, flagged deleted."""
    expected = expected_rows(simulator.store)
    for item_id, row in deleted_rows.items():
        expected[item_id] = {**row, "deleted": True, "deleted_at": expected[item_id]["deleted_at"]}
    return expected


def test_changes_sync_picks_up_edits_bib_edits_and_deletions(
    committed_db: Engine, sierra_simulator: RunningSimulator
) -> None:
    # Given
    full_sync(committed_db, sierra_simulator)
    changes = edit_catalogue(sierra_simulator)
    set_print_count(committed_db, changes["deleted"], 3)
    deleted_row = stored_rows(committed_db)[changes["deleted"]]
    # When
    summary = run_sync(committed_db, sierra_simulator.client())
    # Then
    assert (summary["mode"], summary["outcome"]) == ("changes", "succeeded")
    assert summary["bib_items_updated"] >= len(changes["bib_items"])
    assert summary["deleted"] == 1
    expected = expected_after_changes(sierra_simulator, {changes["deleted"]: deleted_row})
    assert differences(stored_rows(committed_db), expected) == []
    with Session(committed_db) as session:
        deleted = session.get(Item, changes["deleted"])
        bib_items = session.scalars(
            select(Item).where(Item.bib_record_id == changes["bib"], Item.deleted.is_(False))
        ).all()
        edited = session.get(Item, changes["edited"])
    assert deleted is not None and (deleted.deleted, deleted.print_count) == (True, 3)
    assert deleted.barcode is not None
    assert {item.classification for item in bib_items} == {"99.9"}
    assert {item.best_title for item in bib_items} == {"Uusi nimeke"}
    assert edited is not None and (edited.barcode, edited.location_code) == ("NEW-BARCODE-1", "h01aa")


def test_changes_sync_run_twice_changes_nothing(committed_db: Engine, sierra_simulator: RunningSimulator) -> None:
    # Given
    full_sync(committed_db, sierra_simulator)
    edit_catalogue(sierra_simulator)
    run_sync(committed_db, sierra_simulator.client())
    before = row_versions(committed_db)
    # When
    again = run_sync(committed_db, sierra_simulator.client())
    # Then
    assert again["items_read"] >= 1
    assert (again["inserted"], again["updated"], again["deleted"], again["bib_items_updated"]) == (0, 0, 0, 0)
    assert row_versions(committed_db) == before


def writeback_rows(engine: Engine) -> list[tuple[Any, ...]]:
    """The whole writeback queue, every column."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text("SELECT * FROM writeback_queue ORDER BY 1"))]


def test_changes_sync_applies_own_writeback_without_queueing_again(
    committed_db: Engine, sierra_simulator: RunningSimulator
) -> None:
    # Given: item A was printed and written back (call number PUT to Sierra); item B was printed and is queued;
    # then a cataloguer re-classified B's bib
    full_sync(committed_db, sierra_simulator)
    written, queued = first_live_items(sierra_simulator, 2)
    client = sierra_simulator.client()
    var_fields = [
        field for field in sierra_simulator.store.get_item_raw(written)["varFields"] if field["fieldTag"] != "c"
    ]
    var_fields.append({"fieldTag": "c", "marcTag": "099", "subfields": [{"tag": "a", "content": "85.2 WRITTEN"}]})
    client.update_item(written, {"varFields": var_fields})
    after_put = sierra_simulator.store.get_item_raw(written)["updatedDate"]
    with Session(committed_db) as session, session.begin():
        enqueue_item(session, item_record_id=written, classification="85.2")
        enqueue_item(session, item_record_id=queued, classification="84.2")
        entry = session.get(WritebackEntry, written)
        assert entry is not None
        entry.status = WritebackStatus.DONE
        entry.sierra_updated_at = datetime.strptime(after_put, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    queued_bib = sierra_simulator.store.bib_id_for_item(queued)
    assert queued_bib is not None
    sierra_simulator.store.edit_bib(queued_bib, classification="12.3")
    queue_before = writeback_rows(committed_db)
    # When
    run_sync(committed_db, client)
    # Then
    assert writeback_rows(committed_db) == queue_before
    with Session(committed_db) as session:
        written_item = session.get(Item, written)
        queued_item = session.get(Item, queued)
    assert written_item is not None and written_item.call_number == "85.2 WRITTEN"
    assert queued_item is not None and queued_item.classification == "12.3"


def test_changes_sync_stopped_by_the_budget_resumes(committed_db: Engine, sierra_simulator: RunningSimulator) -> None:
    # Given: a changes pass that may read only one page
    full_sync(committed_db, sierra_simulator)
    changes = edit_catalogue(sierra_simulator)
    deleted_row = stored_rows(committed_db)[changes["deleted"]]
    with Session(committed_db) as session:
        state = session.get(JobState, SYNC_JOB_NAME)
        assert state is not None
        watermark = state.changes_since
    # When
    stopped = run_sync(committed_db, sierra_simulator.client(), budget=PageBudget(pages=1))
    with Session(committed_db) as session:
        state = session.get(JobState, SYNC_JOB_NAME)
        assert state is not None
        watermark_after_stop = state.changes_since
    resumed = run_sync(committed_db, sierra_simulator.client())
    # Then
    assert stopped["outcome"] == "partial"
    assert watermark_after_stop == watermark
    assert resumed["outcome"] == "succeeded"
    expected = expected_after_changes(sierra_simulator, {changes["deleted"]: deleted_row})
    assert differences(stored_rows(committed_db), expected) == []


def test_changes_sync_survives_token_expiry_503s_and_409s(
    committed_db: Engine, sierra_simulator: RunningSimulator
) -> None:
    # Given
    full_sync(committed_db, sierra_simulator)
    changes = edit_catalogue(sierra_simulator)
    deleted_row = stored_rows(committed_db)[changes["deleted"]]
    client = sierra_simulator.client(retries=10)

    def disturb(page: int) -> None:
        if page == 2:
            sierra_simulator.set_faults(expire_tokens=True, fail_next=[503, 409, 503])
        if page == 3:
            sierra_simulator.set_faults(expire_tokens=True, fail_next=[409, 409])

    # When
    summary = run_sync(committed_db, client, budget=PageBudget(on_page=disturb))
    # Then
    assert summary["outcome"] == "succeeded"
    expected = expected_after_changes(sierra_simulator, {changes["deleted"]: deleted_row})
    assert differences(stored_rows(committed_db), expected) == []
    assert client.tokens_fetched >= 3


def test_changes_sync_requested_full_restarts_the_pass(
    committed_db: Engine, sierra_simulator: RunningSimulator
) -> None:
    # Given
    full_sync(committed_db, sierra_simulator)
    # When
    summary = run_sync(committed_db, sierra_simulator.client(), mode=SyncMode.FULL, budget=PageBudget(pages=0))
    # Then
    with Session(committed_db) as session:
        state = session.get(JobState, SYNC_JOB_NAME)
    assert state is not None
    assert (summary["mode"], summary["outcome"]) == ("full", "partial")
    assert (state.mode, state.full_sync_cursor) == (SyncMode.FULL, 0)
