"""One run of the Sierra sync: take the lease, run the pass the state calls for, record the outcome.

A run does one pass: the full pass (resumed from its cursor) until it completes, then changes passes.
It stops before a page that would not fit in its time budget and records the outcome "partial";
the next run carries on. Counts are stored on the run record even when the run fails.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from sqlalchemy import Engine

from tarroitus.db import get_engine
from tarroitus.deadlines import Budget, Deadline
from tarroitus.domain import SYNC_JOB_NAME, SyncMode
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.job_runs import job_run
from tarroitus.services.sierra_connection import build_sierra_client
from tarroitus.services.sync.changes import run_changes_sync
from tarroitus.services.sync.full import run_full_sync
from tarroitus.services.sync.pages import PagePacer, SyncCounts
from tarroitus.services.sync.state import current_mode, lock_sync_state, restart_full_sync
from tarroitus.settings import Settings
from tarroitus.sierra import SierraClient

logger = Logger(child=True)
tracer = Tracer(auto_patch=False)

#: Extra lease time past the run's budget, so a crashed run's lease lapses soon after it died.
LEASE_GRACE_SECONDS = 60


@dataclass(frozen=True)
class SyncOptions:
    """How a run pages and how long its lease lasts."""

    batch_size: int
    lookback: timedelta
    lease_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings, *, lease_seconds: int) -> "SyncOptions":
        """Options from the settings (FULL_SYNC_BATCH_SIZE, SYNC_CHANGES_LOOKBACK_SECONDS)."""
        return cls(
            batch_size=settings.full_sync_batch_size,
            lookback=timedelta(seconds=settings.sync_changes_lookback_seconds),
            lease_seconds=lease_seconds,
        )


def run_sync(
    settings: Settings,
    *,
    deadline: Deadline,
    mode: SyncMode | None = None,
    engine: Engine | None = None,
    client: SierraClient | None = None,
) -> dict[str, Any]:
    """One run with the configured database and Sierra (clients passed in are used and left open)."""
    options = SyncOptions.from_settings(settings, lease_seconds=math.ceil(deadline.remaining()) + LEASE_GRACE_SECONDS)
    engine = engine or get_engine(settings)
    if client is not None:
        return sync_from_sierra(engine, client, options=options, budget=deadline, mode=mode)
    with build_sierra_client(settings) as own_client:
        return sync_from_sierra(engine, own_client, options=options, budget=deadline, mode=mode)


@tracer.capture_method(capture_response=False)
def sync_from_sierra(
    engine: Engine,
    client: SierraClient,
    *,
    options: SyncOptions,
    budget: Budget,
    mode: SyncMode | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Run one sync pass; `mode=FULL` restarts a full pass when the sync is in changes mode."""
    with job_run(engine, job_name=SYNC_JOB_NAME, lease_seconds=options.lease_seconds) as run:
        if run is None:
            logger.info("Another sync run holds the lease; not starting")
            return {"outcome": "skipped", "reason": "another sync run holds the lease"}
        counts = SyncCounts()
        pacer = PagePacer(budget)
        chosen = choose_mode(engine, requested=mode)
        run.counts["mode"] = chosen.value
        try:
            if chosen is SyncMode.FULL:
                completed = run_full_sync(
                    engine, client, batch_size=options.batch_size, pacer=pacer, counts=counts, now=now
                )
            else:
                completed = run_changes_sync(
                    engine,
                    client,
                    batch_size=options.batch_size,
                    lookback=options.lookback,
                    pacer=pacer,
                    counts=counts,
                    now=now,
                )
        finally:
            run.counts.update(counts.as_dict())
        run.outcome = "succeeded" if completed else "partial"
    counts.log_progress("Sync run finished", mode=chosen.value, outcome=run.outcome)
    return {"outcome": run.outcome, "mode": chosen.value, **counts.as_dict()}


def choose_mode(engine: Engine, *, requested: SyncMode | None) -> SyncMode:
    """The pass to run: the state's, except that a requested full pass restarts one in changes mode."""
    with session_scope(engine) as session:
        state = lock_sync_state(session)
        mode = current_mode(state)
        if requested is SyncMode.FULL and mode is SyncMode.CHANGES:
            restart_full_sync(state)
            return SyncMode.FULL
        if requested is SyncMode.CHANGES and mode is SyncMode.FULL:
            logger.warning("A changes pass was asked for, but the full pass has not completed; continuing it")
        return mode
