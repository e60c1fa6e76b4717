"""Drive the writeback job against the simulator under faults, with simulated time, and check the outcome.

Time: the job reads the wall clock, so "time passes" by moving the queue's and the lease's timestamps
back (`advance`): retries come due and abandoned claims and leases expire exactly as they would after
that long, without the test waiting. Only hung requests need real time to land.

The check (`verify`) is the suite's acceptance bar: every queued item is either done, with each part of
its write (call number, inventory date, internal-use flag) in exactly one successful PUT of Sierra's log
and the new call number and flag in Sierra, or dead-lettered with its error; no part of an item is
written twice (a duplicate). A write is one PUT unless Sierra refused its body (then its parts go one at
a time), so for every scenario without refusals this is one successful PUT per item.
"""

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from tarroitus.deadlines import Deadline
from tarroitus.domain import WRITEBACK_JOB_NAME, WritebackStatus
from tarroitus.jobs import sierra_writeback
from tarroitus.models import Item, JobState, LabelEvent, WritebackEntry
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.settings import Settings
from tarroitus.sierra import SierraClient
from tests.events import scheduler_event
from tests.reliability.ledger import LEDGER, ScenarioOutcome
from tests.sierra_fixtures import RunningSimulator

CLASSIFICATION = "84.2"
#: The schedule's interval in the template: one writeback invocation per minute.
SCHEDULE_INTERVAL_SECONDS = 60


def fault_settings(settings: Settings, **overrides: Any) -> Settings:
    """Production-like writeback settings at test scale: real backoff (30 s doubling), 8 attempts."""
    values: dict[str, Any] = {
        "sierra_update_backoff_base_seconds": 30.0,
        "sierra_update_max_attempts": 8,
        "sierra_update_batch_size_limit": 10,
        "sierra_api_client_pool_size": 4,
        "sierra_update_concurrency": 2,
        "sierra_api_maintenance_threshold": 5,
        "sierra_api_client_timeout_seconds": 1.0,
    }
    values.update(overrides)
    return settings.model_copy(update=values)


def live_item_ids(simulator: RunningSimulator, count: int) -> list[int]:
    """The first `count` items that are not deleted in the simulator."""
    store = simulator.store
    ids = [
        item_id
        for item_id in range(store.first_item_id, store.last_item_id + 1)
        if not (store.get_item_raw(item_id) or {"deleted": True}).get("deleted")
    ]
    assert len(ids) >= count, "the simulator holds too few live items"
    return ids[:count]


#: The part of a write each top-level key of a PUT body carries.
PARTS_BY_KEY = {"varFields": "call_number", "inventoryDate": "inventory_date", "fixedFields": "internal_use"}


def sierra_holds_the_write(raw: dict[str, Any] | None, *, internal_use_field: str = "93") -> bool:
    """True when Sierra's item carries exactly one call number, the new one, and the internal-use flag."""
    if raw is None:
        return False
    call_fields = [field for field in raw.get("varFields", []) if field.get("fieldTag") == "c"]
    if len(call_fields) != 1:
        return False
    (field,) = call_fields
    subfields = field.get("subfields")
    text = (
        next((sub.get("content", "") for sub in subfields if sub.get("tag") == "a"), "")
        if subfields is not None
        else field.get("content", "")
    )
    flag = raw.get("fixedFields", {}).get(internal_use_field, {}).get("value")
    return text.startswith(CLASSIFICATION) and str(flag) == "1"


def parts_written(simulator: RunningSimulator) -> dict[int, list[str]]:
    """Per item, the parts every successful PUT carried, in order (a part twice is a duplicate write)."""
    written: dict[int, list[str]] = {}
    for put in simulator.store.put_log:
        if put.status == 204 and isinstance(put.body, dict):
            written.setdefault(put.item_id, []).extend(PARTS_BY_KEY[key] for key in put.body if key in PARTS_BY_KEY)
    return written


@dataclass
class WritebackHarness:
    """A queue of labelled items, the job's runs over it, and the scenario's figures."""

    engine: Engine
    simulator: RunningSimulator
    settings: Settings
    item_ids: list[int] = field(default_factory=list)
    runs: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    extra_faults: int = 0
    reported: dict[str, int] = field(default_factory=dict)

    def queue_items(self, count: int) -> list[int]:
        """Label and queue `count` live items (as prints do)."""
        ids = live_item_ids(self.simulator, count)
        with session_scope(self.engine) as session:
            session.add_all(Item(item_record_id=item_id) for item_id in ids)
            session.flush()
            for item_id in ids:
                queue.enqueue_item(session, item_record_id=item_id, classification=CLASSIFICATION)
        self.item_ids.extend(ids)
        return ids

    def client(self, settings: Settings | None = None) -> SierraClient:
        """A simulator client as the job builds it from `settings` (the harness's by default): one connection per
        worker, the settings' timeout; it records its backoff sleeps instead of sleeping.

        The job's client factory (`build_writeback_client`) is replaced by this one (the `harness` fixture).
        """
        settings = settings or self.settings
        return self.simulator.client(
            pool_size=settings.sierra_api_client_pool_size,
            timeout_seconds=settings.sierra_api_client_timeout_seconds,
            retries=2,
            maintenance_threshold=settings.sierra_api_maintenance_threshold,
            max_concurrent_requests=settings.sierra_update_concurrency,
        )

    def run(self, *, budget_seconds: float | None = None) -> dict[str, Any]:
        """One scheduled invocation; `budget_seconds` is the time it may still start items in."""
        deadline = None
        if budget_seconds is not None:
            deadline = Deadline(
                at=time.monotonic() + self.settings.sierra_api_client_timeout_seconds + 5 + budget_seconds
            )
        self.runs += 1
        result = sierra_writeback.run(self.settings, event=scheduler_event(), deadline=deadline)
        self.tally(result)
        return result

    def tally(self, result: dict[str, Any]) -> None:
        """Add a run's counts to the scenario's."""
        self.results.append(result)
        for name, value in result.items():
            if isinstance(value, int):
                self.counts[name] = self.counts.get(name, 0) + value

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass for the queue and the lease: retries come due, stale claims and leases expire."""
        shift = text(f"interval '{float(seconds)} seconds'")
        with session_scope(self.engine) as session:
            session.execute(
                update(WritebackEntry).values(
                    next_attempt_at=WritebackEntry.next_attempt_at - shift,
                    claimed_at=WritebackEntry.claimed_at - shift,
                )
            )
            session.execute(update(JobState).values(lease_expires_at=JobState.lease_expires_at - shift))

    def unfinished(self) -> int:
        """Items still queued or in flight."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(WritebackEntry.status).where(
                    WritebackEntry.status.in_([WritebackStatus.QUEUED, WritebackStatus.IN_PROGRESS])
                )
            ).all()
        return len(rows)

    def drain(self, *, max_runs: int = 30, settle_seconds: float = 0.0, **run_options: Any) -> None:
        """Run once per schedule interval until nothing is queued or in flight (or `max_runs`)."""
        for _ in range(max_runs):
            if not self.unfinished():
                return
            self.run(**run_options)
            if settle_seconds:
                # Requests that hung past the client's timeout land on their own time.
                time.sleep(settle_seconds)
            self.advance(SCHEDULE_INTERVAL_SECONDS)
        assert not self.unfinished(), f"the queue did not drain in {max_runs} runs"

    def label_events(self) -> int:
        """Print events on record."""
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(LabelEvent)) or 0)

    def lease_holder(self) -> str | None:
        """The owner of the writeback job's lease, if any."""
        with Session(self.engine) as session:
            state = session.get(JobState, WRITEBACK_JOB_NAME)
            return state.lease_owner if state else None

    def verify(self, name: str) -> ScenarioOutcome:
        """Check every queued item ended written once or dead-lettered with its error; record the figures."""
        with Session(self.engine) as session:
            entries = {
                entry.item_record_id: entry
                for entry in session.scalars(
                    select(WritebackEntry).where(WritebackEntry.item_record_id.in_(self.item_ids))
                )
            }
        written_parts = parts_written(self.simulator)
        # Figures since the previous `verify` of this harness, so that a scenario in two parts counts each once.
        faults = sum(self.simulator.faults.injected.values()) + self.simulator.store.refused_puts + self.extra_faults
        outcome = ScenarioOutcome(name=name, items=len(self.item_ids), runs=self.runs - self.reported.get("runs", 0))
        outcome.faults = faults - self.reported.get("faults", 0)
        self.reported = {"runs": self.runs, "faults": faults}
        outcome.skipped_as_done = self.counts.get("skipped_as_done", 0)
        outcome.duplicates = sum(
            len(parts) - len(set(parts)) for item_id, parts in written_parts.items() if item_id in entries
        )
        for item_id in self.item_ids:
            entry = entries.get(item_id)
            raw = self.simulator.store.get_item_raw(item_id)
            parts = written_parts.get(item_id, [])
            written_once = bool(parts) and len(parts) == len(set(parts)) and sierra_holds_the_write(raw)
            if entry is not None and entry.status is WritebackStatus.DONE and written_once:
                outcome.written += 1
                continue
            if entry is not None and entry.status is WritebackStatus.DEAD and entry.last_error:
                outcome.dead_lettered += 1
                continue
            outcome.lost += 1
        LEDGER.record(outcome)
        assert outcome.duplicates == 0, outcome.line()
        assert outcome.lost == 0, outcome.line()
        return outcome
