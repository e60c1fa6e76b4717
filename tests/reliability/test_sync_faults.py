"""The Sierra sync under faults: error bursts, timeouts, token loss, maintenance, budgets, kills, a database restart.

Each scenario runs the sync (one invocation after another, as the schedule would) until it completes,
then checks the acceptance bar: the items table equals the simulator's data row for row (nothing
lost, nothing extra), the sync state is in changes mode with its cursor at the last item, no lease is
left behind, and a further run changes nothing.
"""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update

from tarroitus.domain import SYNC_JOB_NAME, SyncMode
from tarroitus.models import JobState
from tarroitus.repositories.transactions import session_scope
from tests.reliability.sync_harness import BATCH, SyncScenario, sync_state
from tests.sierra_fixtures import RunningSimulator
from tests.sync_helpers import PageBudget, expected_rows, run_sync, stored_rows


def test_sync_error_bursts_timeouts_and_token_loss_converge(committed_db: Engine, simulator: RunningSimulator) -> None:
    # Given: 5xx on a quarter of the requests, one in twenty hanging past the timeout, tokens lost twice
    client = simulator.client(timeout_seconds=0.25, retries=2)
    simulator.set_faults(seed=21, error_rates={500: 0.1, 502: 0.05, 503: 0.1}, timeout_rate=0.05, hang_seconds=0.4)

    def lose_tokens(page: int) -> None:
        if page in (2, 5):
            simulator.set_faults(expire_tokens=True)

    scenario = SyncScenario(committed_db, simulator, client)
    # When: the full pass, then staff edits and a changes pass, under the same faults
    scenario.until_complete(lambda: PageBudget(on_page=lose_tokens))
    store = simulator.store
    for item_id in range(store.first_item_id, store.first_item_id + 30, 3):
        if not (store.get_item_raw(item_id) or {}).get("deleted"):
            store.edit_item(item_id, barcode=f"EDITED-{item_id}")
    scenario.until_complete()
    # Then
    outcome = scenario.verify("sync_5xx_timeouts_token_loss")
    assert outcome.faults > 0


def test_sync_maintenance_window_mid_pass_resumes_from_the_last_stored_page(
    committed_db: Engine, simulator: RunningSimulator
) -> None:
    # Given: Sierra goes into maintenance (503, code 117) before the fourth page
    client = simulator.client(retries=2)

    def maintenance_from_page_4(page: int) -> None:
        if page == 4:
            simulator.set_faults(maintenance=True)

    scenario = SyncScenario(committed_db, simulator, client)
    assert scenario.run_once(PageBudget(on_page=maintenance_from_page_4)) is None
    stopped = sync_state(committed_db)
    stored = stored_rows(committed_db)
    # When: three more scheduled runs during the window fail without moving anything, then it ends
    for _ in range(3):
        assert scenario.run_once() is None
    during = sync_state(committed_db)
    simulator.set_faults(maintenance=False)
    scenario.until_complete()
    # Then: the cursor stood at the last page stored in full, and the pass resumed from it
    assert stopped.mode is SyncMode.FULL
    assert stopped.full_sync_cursor == max(stored)
    assert len(stored) % BATCH == 0 and 3 * BATCH <= len(stored) < len(expected_rows(simulator.store))
    assert (during.full_sync_cursor, during.last_run_outcome) == (stopped.full_sync_cursor, "failed")
    scenario.verify("sync_maintenance_window")


def test_sync_invocations_out_of_time_mid_pass_resume_each_other(
    committed_db: Engine, simulator: RunningSimulator
) -> None:
    # Given: every invocation has time for two pages only
    scenario = SyncScenario(committed_db, simulator, simulator.client())
    # When
    scenario.until_complete(lambda: PageBudget(pages=2))
    # Then
    scenario.extra_faults = scenario.runs - 1
    outcome = scenario.verify("sync_time_budget")
    assert outcome.runs >= len(expected_rows(simulator.store)) // (2 * BATCH)


def test_sync_killed_invocation_holding_the_lease_is_waited_out(
    committed_db: Engine, simulator: RunningSimulator
) -> None:
    # Given: an invocation is killed before its fourth page, without releasing its lease
    class KilledError(BaseException):
        """The Lambda runtime stopping the process: no handler of ours runs."""

    def killed_before_page_4(page: int) -> None:
        if page == 4:
            raise KilledError

    scenario = SyncScenario(committed_db, simulator, simulator.client())
    with pytest.raises(KilledError):
        run_sync(committed_db, scenario.client, batch_size=BATCH, budget=PageBudget(on_page=killed_before_page_4))
    with session_scope(committed_db) as session:
        session.execute(
            update(JobState)
            .where(JobState.job_name == SYNC_JOB_NAME)
            .values(lease_owner="killed", lease_expires_at=datetime.now(UTC) + timedelta(minutes=16))
        )
    scenario.extra_faults = 1
    # When: the next invocation comes while the dead one's lease holds, then after it lapses
    waiting = scenario.run_once()
    scenario.until_complete()
    # Then
    assert waiting is not None and waiting["outcome"] == "skipped"
    scenario.verify("sync_killed_invocation")


def test_sync_two_scheduled_invocations_at_once_one_runs(committed_db: Engine, simulator: RunningSimulator) -> None:
    # Given: two invocations start at the same moment
    simulator.set_faults(latency_ms=5)
    start = threading.Barrier(2)
    results: list[dict[str, Any]] = []

    def invoke() -> None:
        client = simulator.client()
        start.wait()
        results.append(run_sync(committed_db, client, batch_size=BATCH))

    threads = [threading.Thread(target=invoke) for _ in range(2)]
    # When
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then
    assert sorted(result["outcome"] for result in results) == ["skipped", "succeeded"]
    scenario = SyncScenario(committed_db, simulator, simulator.client())
    scenario.runs, scenario.skipped_runs, scenario.extra_faults = 2, 1, 1
    scenario.verify("sync_overlapping_invocations")
