"""Stale labels from Sierra: the full and the changes sync change a printed item's classification or signum, the
item needs a reprint, and until it is reprinted the writeback gives Sierra the classification on the book."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole, SyncMode
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.items import get_item
from tarroitus.services.labels.prints import record_print
from tarroitus.services.writeback.queue import write_back_queue
from tarroitus.settings import Settings
from tests.factories import make_client
from tests.sierra_fixtures import RunningSimulator
from tests.sync_helpers import run_sync

MAIN_ENTRY_TAGS = {"100", "110", "111", "130"}


@pytest.fixture
def synced(committed_db: Engine, sierra_simulator: RunningSimulator) -> Iterator[RunningSimulator]:
    """The simulator's catalogue, fully synced (the next run is a changes pass)."""
    assert run_sync(committed_db, sierra_simulator.client())["outcome"] == "succeeded"
    yield sierra_simulator


def single_item_bibs(engine: Engine, count: int) -> list[tuple[int, int]]:
    """(item, bib) of the lowest live items with a classification that are the only item of their bib."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT min(item_record_id), bib_record_id FROM items WHERE NOT deleted GROUP BY bib_record_id"
                " HAVING count(*) = 1 AND bool_and(classification IS NOT NULL) ORDER BY 1 LIMIT :count"
            ),
            {"count": count},
        ).all()
    assert len(rows) == count
    return [(row[0], row[1]) for row in rows]


def print_label(engine: Engine, item_id: int) -> None:
    """A station prints the item's current label."""
    with session_scope(engine) as session:
        station, _ = make_client(session, role=ClientRole.PRINTER)
        record_print(session, item_id=item_id, client=station)


def item_state(engine: Engine, item_id: int) -> tuple[bool, str | None, str, str | None, str | None]:
    """(reprint_needed, classification, signum, last printed classification, last printed signum)."""
    with Session(engine) as session:
        view = get_item(session, item_id=item_id)
        state = view.label_state
        return (
            view.reprint_needed,
            view.classification,
            view.signum,
            state.last_printed_classification,
            state.last_printed_signum,
        )


def renamed_main_entry(bib: dict[str, Any], author: str) -> list[dict[str, Any]]:
    """The bib's varFields with its heading replaced by a 100 personal name (so its signum changes)."""
    kept = [field for field in bib["varFields"] if field.get("marcTag") not in MAIN_ENTRY_TAGS]
    subfields = [{"tag": "a", "content": author}]
    heading = {"fieldTag": "a", "marcTag": "100", "ind1": "1", "ind2": " ", "subfields": subfields}
    return [heading, *kept]


def test_changes_sync_of_a_bib_classification_or_heading_needs_a_reprint(
    committed_db: Engine, synced: RunningSimulator
) -> None:
    # Given: three printed items, each the only item of its bib
    (reclassified, bib_a), (renamed, bib_b), (untouched, bib_c) = single_item_bibs(committed_db, 3)
    for item_id in (reclassified, renamed, untouched):
        print_label(committed_db, item_id)
    printed = {item_id: item_state(committed_db, item_id) for item_id in (reclassified, renamed, untouched)}
    # When: the bibs change in Sierra: a new 097, a new heading, and only the title
    synced.store.edit_bib(bib_a, classification="99.91")
    bib = synced.store.get_bib_raw(bib_b)
    assert bib is not None
    synced.store.edit_bib(bib_b, varFields=renamed_main_entry(bib, "Zyzzyva, Testi"))
    synced.store.edit_bib(bib_c, title="Uusi nimeke")
    assert run_sync(committed_db, synced.client())["mode"] == "changes"
    # Then
    assert item_state(committed_db, reclassified) == (True, "99.91", *printed[reclassified][2:])
    renamed_state = item_state(committed_db, renamed)
    assert renamed_state[0] is True and renamed_state[2] == "ZYZ" != renamed_state[4]
    assert item_state(committed_db, untouched) == printed[untouched]
    assert printed[untouched][0] is False


def test_changes_sync_of_an_item_moved_to_another_bib_needs_a_reprint(
    committed_db: Engine, synced: RunningSimulator
) -> None:
    # Given: a printed item, and another bib with another classification
    (moved, _), (_, other_bib) = single_item_bibs(committed_db, 2)
    synced.store.edit_bib(other_bib, classification="99.92")
    print_label(committed_db, moved)
    # When: Sierra attaches the item to the other bib
    synced.store.edit_item(moved, bibIds=[str(other_bib)])
    run_sync(committed_db, synced.client())
    # Then
    reprint_needed, classification, *_ = item_state(committed_db, moved)
    assert (reprint_needed, classification) == (True, "99.92")


def test_full_sync_changing_the_classification_needs_a_reprint(committed_db: Engine, synced: RunningSimulator) -> None:
    # Given
    [(item_id, bib_id)] = single_item_bibs(committed_db, 1)
    print_label(committed_db, item_id)
    # When: a new full pass reads the bib with another 097
    synced.store.edit_bib(bib_id, classification="99.93")
    assert run_sync(committed_db, synced.client(), mode=SyncMode.FULL)["mode"] == "full"
    # Then
    assert item_state(committed_db, item_id)[:2] == (True, "99.93")


def call_number_in_sierra(simulator: RunningSimulator, item_id: int) -> str:
    """The item's one call-number field in the simulator: its subfield a, or its content."""
    raw = simulator.store.get_item_raw(item_id)
    assert raw is not None
    [field] = [field for field in raw["varFields"] if field.get("fieldTag") == "c"]
    subfields = field.get("subfields")
    return str(next(sub["content"] for sub in subfields if sub["tag"] == "a") if subfields else field["content"])


def write_back(engine: Engine, simulator: RunningSimulator, settings: Settings) -> None:
    options = settings.model_copy(update={"sierra_update_backoff_base_seconds": 0.0})
    counts = write_back_queue(
        engine, simulator.client(), settings=options, owner="reprint-test", stop_at=time.monotonic() + 60
    )
    assert counts.written == 1, counts


def test_writeback_gives_sierra_the_printed_classification_until_the_reprint(
    committed_db: Engine, synced: RunningSimulator, settings: Settings
) -> None:
    # Given: a printed item whose 097 changes in Sierra before its writeback runs
    [(item_id, bib_id)] = single_item_bibs(committed_db, 1)
    synced.store.edit_bib(bib_id, classification="84.21")
    run_sync(committed_db, synced.client())
    print_label(committed_db, item_id)
    synced.store.edit_bib(bib_id, classification="99.94")
    run_sync(committed_db, synced.client())
    assert item_state(committed_db, item_id)[:2] == (True, "99.94")
    # When
    write_back(committed_db, synced, settings)
    # Then: Sierra holds the label on the book
    assert call_number_in_sierra(synced, item_id).split(" ")[0] == "84.21"
    # When: the station reprints, and the writeback runs again
    print_label(committed_db, item_id)
    write_back(committed_db, synced, settings)
    # Then
    assert item_state(committed_db, item_id)[0] is False
    assert call_number_in_sierra(synced, item_id).split(" ")[0] == "99.94"
