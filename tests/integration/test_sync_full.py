"""The full pass against the Sierra simulator over HTTP, into real PostgreSQL."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.domain import SYNC_JOB_NAME, SyncMode
from tarroitus.models import JobRun, JobState
from tarroitus.sierra import SierraBadRequestError
from tests.sierra_fixtures import RunningSimulator, run_simulator
from tests.sync_helpers import PageBudget, differences, expected_rows, row_versions, run_sync, stored_rows

ITEM_COUNT = 5000


@pytest.fixture(scope="module")
def simulator_5000() -> Iterator[RunningSimulator]:
    """A simulator with 5,000 seeded items for this module."""
    with run_simulator(item_count=ITEM_COUNT) as running:
        yield running


@pytest.fixture
def simulator(simulator_5000: RunningSimulator) -> RunningSimulator:
    """The module's simulator, back in its seeded state."""
    simulator_5000.reset()
    return simulator_5000


def sync_state(engine: Engine) -> JobState:
    """The sync's state row."""
    with Session(engine) as session:
        state = session.get(JobState, SYNC_JOB_NAME)
        assert state is not None
        return state


def test_full_sync_of_5000_items_equals_the_simulator(committed_db: Engine, simulator: RunningSimulator) -> None:
    # Given
    client = simulator.client()
    # When
    summary = run_sync(committed_db, client)
    # Then
    expected = expected_rows(simulator.store)
    assert len(expected) == ITEM_COUNT
    assert differences(stored_rows(committed_db), expected) == []
    assert summary["outcome"] == "succeeded"
    assert (summary["mode"], summary["pages"], summary["items_read"]) == ("full", 3, ITEM_COUNT)
    state = sync_state(committed_db)
    assert (state.mode, state.full_sync_cursor) == (SyncMode.CHANGES, simulator.store.last_item_id)
    assert state.changes_since == state.full_sync_started_at
    assert state.last_run_outcome == "succeeded"
    assert state.last_run_counts is not None and state.last_run_counts["items_read"] == ITEM_COUNT


def test_full_sync_ending_on_a_full_page_completes_on_the_empty_page_after_it(
    committed_db: Engine, simulator: RunningSimulator
) -> None:
    # Given pages of 1,000: the 5,000 items fill five pages exactly
    client = simulator.client()
    # When
    summary = run_sync(committed_db, client, batch_size=1000)
    # Then the empty sixth answer is stored as the last page and completes the pass
    assert (summary["outcome"], summary["pages"], summary["items_read"]) == ("succeeded", 6, ITEM_COUNT)
    assert differences(stored_rows(committed_db), expected_rows(simulator.store)) == []
    state = sync_state(committed_db)
    assert (state.mode, state.full_sync_cursor) == (SyncMode.CHANGES, simulator.store.last_item_id)


def test_full_sync_stopped_by_the_budget_resumes_to_the_same_table(
    committed_db: Engine, simulator: RunningSimulator
) -> None:
    # Given: the time budget runs out after 4 pages of 500
    client = simulator.client()
    first = run_sync(committed_db, client, batch_size=500, budget=PageBudget(pages=4))
    cursor_after_stop = sync_state(committed_db).full_sync_cursor
    # When
    second = run_sync(committed_db, client, batch_size=500)
    # Then
    assert first["outcome"] == "partial"
    assert first["items_read"] == 2000
    assert cursor_after_stop == simulator.store.first_item_id + 1999
    assert second["outcome"] == "succeeded"
    assert second["items_read"] == ITEM_COUNT - 2000
    assert differences(stored_rows(committed_db), expected_rows(simulator.store)) == []
    with Session(committed_db) as session:
        outcomes = session.scalars(select(JobRun.outcome).order_by(JobRun.id)).all()
    assert outcomes == ["partial", "succeeded"]


def test_full_sync_crash_mid_run_then_rerun_gives_the_same_table(
    committed_db: Engine, simulator: RunningSimulator
) -> None:
    # Given: Sierra answers one request of the third page with an error the client does not retry
    client = simulator.client()

    def break_third_page(page: int) -> None:
        if page == 3:
            simulator.set_faults(fail_next=[400])

    # When
    with pytest.raises(SierraBadRequestError):
        run_sync(committed_db, client, batch_size=1000, budget=PageBudget(on_page=break_third_page))
    crashed = sync_state(committed_db)
    run_sync(committed_db, client, batch_size=1000)
    # Then
    assert crashed.last_run_outcome == "failed"
    assert crashed.last_run_counts is not None
    stored_before_crash = crashed.last_run_counts["items_read"]
    assert 2000 <= stored_before_crash < ITEM_COUNT
    assert crashed.full_sync_cursor == simulator.store.first_item_id + stored_before_crash - 1
    assert differences(stored_rows(committed_db), expected_rows(simulator.store)) == []


def test_full_sync_run_twice_changes_nothing(committed_db: Engine, simulator: RunningSimulator) -> None:
    # Given
    client = simulator.client()
    run_sync(committed_db, client)
    before = row_versions(committed_db)
    # When: a new full pass is asked for
    again = run_sync(committed_db, client, mode=SyncMode.FULL)
    # Then
    assert (again["mode"], again["inserted"], again["updated"], again["deleted"]) == ("full", 0, 0, 0)
    assert again["unchanged"] == again["items_read"] - _deleted_count(committed_db)
    assert row_versions(committed_db) == before


def _deleted_count(engine: Engine) -> int:
    return sum(1 for row in stored_rows(engine).values() if row["deleted"])


def test_full_sync_survives_token_expiry_503_bursts_and_409s(committed_db: Engine, simulator: RunningSimulator) -> None:
    # Given: tokens expire before pages 2 and 4, a 503 burst before page 3, record locks and random 503s
    client = simulator.client(retries=10)
    simulator.set_faults(seed=7, error_rates={503: 0.04, 409: 0.04})

    def disturb(page: int) -> None:
        if page in (2, 4):
            simulator.set_faults(expire_tokens=True)
        if page == 3:
            simulator.set_faults(fail_next=[503, 503, 503, 409, 409])

    # When
    summary = run_sync(committed_db, client, batch_size=1000, budget=PageBudget(on_page=disturb))
    # Then
    assert summary["outcome"] == "succeeded"
    assert differences(stored_rows(committed_db), expected_rows(simulator.store)) == []
    statuses = simulator.stats()["by_status"]
    assert statuses.get(503, statuses.get("503", 0)) >= 3
    assert statuses.get(401, statuses.get("401", 0)) >= 2
    assert client.tokens_fetched >= 3
