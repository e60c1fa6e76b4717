"""Scheduled sync runs until the sync completes, tolerating failed runs, and the acceptance check at the end.

The check: the items table equals the simulator's data row for row (nothing lost, nothing extra), the
sync state is in changes mode with its cursor at the last item, no lease is left behind, and a further
run changes nothing.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from tarroitus.domain import SYNC_JOB_NAME, SyncMode
from tarroitus.models import JobState
from tarroitus.repositories.transactions import session_scope
from tarroitus.sierra import SierraClient
from tests.reliability.ledger import LEDGER, ScenarioOutcome
from tests.sierra_fixtures import RunningSimulator
from tests.sync_helpers import PageBudget, differences, expected_rows, row_versions, run_sync, stored_rows

BATCH = 200
MAX_RUNS = 40


def sync_state(engine: Engine) -> JobState:
    """The sync's state row."""
    with Session(engine) as session:
        state = session.get(JobState, SYNC_JOB_NAME)
        assert state is not None
        return state


def expire_lease(engine: Engine) -> None:
    """Let the lease of a run that died holding it lapse (its budget plus grace has passed)."""
    with session_scope(engine) as session:
        session.execute(
            update(JobState)
            .where(JobState.job_name == SYNC_JOB_NAME)
            .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


class SyncScenario:
    """Scheduled runs until the sync completes, tolerating failed runs, and the check at the end."""

    def __init__(self, engine: Engine, simulator: RunningSimulator, client: SierraClient) -> None:
        self.engine = engine
        self.simulator = simulator
        self.client = client
        self.runs = 0
        self.failed_runs = 0
        self.skipped_runs = 0
        self.extra_faults = 0

    def run_once(self, budget: PageBudget | None = None, mode: SyncMode | None = None) -> dict[str, Any] | None:
        """One invocation; None when it failed (the error is the fault under test)."""
        self.runs += 1
        try:
            result = run_sync(self.engine, self.client, batch_size=BATCH, budget=budget, mode=mode)
        except Exception:
            self.failed_runs += 1
            return None
        if result["outcome"] == "skipped":
            self.skipped_runs += 1
        return result

    def until_complete(self, budget: Callable[[], PageBudget | None] = lambda: None) -> None:
        """Run until a run succeeds in changes mode; a run that died holding its lease is waited out."""
        for _ in range(MAX_RUNS):
            result = self.run_once(budget())
            if result is None or result["outcome"] == "skipped":
                expire_lease(self.engine)
                continue
            if result["outcome"] == "succeeded" and sync_state(self.engine).mode is SyncMode.CHANGES:
                return
        raise AssertionError(f"the sync did not complete in {MAX_RUNS} runs")

    def verify(self, name: str, *, expected: dict[int, dict[str, Any]] | None = None) -> ScenarioOutcome:
        """Check the table, the state and a quiet rerun; record the figures."""
        expected = expected if expected is not None else expected_rows(self.simulator.store)
        actual = stored_rows(self.engine)
        mismatched = {item_id for item_id, row in expected.items() if actual.get(item_id) != row}
        outcome = ScenarioOutcome(
            name=name,
            faults=sum(self.simulator.faults.injected.values()) + self.extra_faults,
            items=len(expected),
            written=len(expected) - len(mismatched),
            duplicates=len(actual.keys() - expected.keys()),
            lost=len(mismatched),
            runs=self.runs,
            extra={"failed_runs": self.failed_runs, "skipped_runs": self.skipped_runs},
        )
        LEDGER.record(outcome)
        assert differences(actual, expected) == [], outcome.line()
        state = sync_state(self.engine)
        assert (state.mode, state.full_sync_cursor) == (SyncMode.CHANGES, self.simulator.store.last_item_id)
        assert state.lease_owner is None
        before = row_versions(self.engine)
        self.simulator.set_faults(reset=True)
        quiet = run_sync(self.engine, self.simulator.client(), batch_size=BATCH)
        assert (quiet["outcome"], quiet["inserted"], quiet["updated"]) == ("succeeded", 0, 0)
        assert row_versions(self.engine) == before
        return outcome
