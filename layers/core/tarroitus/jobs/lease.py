"""Run bookkeeping for scheduled jobs: a lease against overlapping runs, and a recorded outcome.

Every step commits on its own, so the lease and the run record are visible to other
invocations at once and survive a crash of the run itself.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from tarroitus.repositories import job_state
from tarroitus.repositories.transactions import session_scope


@dataclass
class JobRunRecord:
    """A run in progress: jobs add their counts here; they are stored when the run ends."""

    job_name: str
    run_id: int
    owner: str
    started_at: datetime
    counts: dict[str, Any] = field(default_factory=dict)
    outcome: str = "succeeded"

    def add(self, name: str, amount: int = 1) -> None:
        """Increase counter `name` by `amount`."""
        self.counts[name] = int(self.counts.get(name, 0)) + amount


@contextmanager
def job_run(engine: Engine, *, job_name: str, lease_seconds: int) -> Iterator[JobRunRecord | None]:
    """Hold the job's lease for the block; yields None (and records nothing) when another run holds it.

    The outcome is "succeeded" unless the block sets another (e.g. "partial") or raises, in
    which case "failed" is recorded with the error and the exception propagates.
    """
    owner = uuid.uuid4().hex[:16]
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        acquired = job_state.try_acquire_lease(
            session, job_name=job_name, owner=owner, now=now, duration=timedelta(seconds=lease_seconds)
        )
        run_id = job_state.add_run(session, job_name=job_name, started_at=now).id if acquired else None
    if run_id is None:
        yield None
        return
    record = JobRunRecord(job_name=job_name, run_id=run_id, owner=owner, started_at=now)
    try:
        yield record
    except BaseException as exc:
        _finish(engine, record, outcome="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    _finish(engine, record, outcome=record.outcome, error=None)


def _finish(engine: Engine, record: JobRunRecord, *, outcome: str, error: str | None) -> None:
    with session_scope(engine) as session:
        job_state.finish_run(
            session,
            run_id=record.run_id,
            job_name=record.job_name,
            finished_at=datetime.now(UTC),
            outcome=outcome,
            counts=record.counts,
            error=error,
        )
        job_state.release_lease(session, job_name=record.job_name, owner=record.owner)
