"""The scheduled Sierra writeback: the lease, the engine and the Sierra client of one run, and the queue worked.

A run writes labelled items' new call numbers back to Sierra (`services.writeback.queue`) until the queue
has nothing due or its deadline nears; its outcome and counts are recorded on the run record.
"""

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from sqlalchemy import Engine

from tarroitus.db import get_engine
from tarroitus.deadlines import Deadline
from tarroitus.domain import WRITEBACK_JOB_NAME
from tarroitus.jobs.lease import job_run
from tarroitus.jobs.sierra_connection import build_writeback_client
from tarroitus.services.writeback.queue import WritebackRunCounts, write_back_queue
from tarroitus.settings import Settings
from tarroitus.sierra import SierraClient

logger = Logger(child=True)

#: Budget of a run started without a deadline (a manual run outside Lambda): a Lambda's longest.
DEFAULT_BUDGET_SECONDS = 900.0
#: Extra lease time past the budget, so a crashed run's lease lapses soon after its Lambda died.
LEASE_GRACE_SECONDS = 60


def run(
    settings: Settings,
    *,
    event: Mapping[str, Any] | None = None,
    deadline: Deadline | None = None,
) -> dict[str, Any]:
    """One writeback run on the configured database and Sierra: claim and write batches until the queue has
    nothing due or the deadline nears.

    Items are started only until one client timeout (plus 5 s) before the deadline, and unstarted claimed
    items are released. Returns the run's counts and outcome (see `run_writeback`).
    """
    remaining = (deadline or Deadline.after(DEFAULT_BUDGET_SECONDS)).remaining()
    stop_at = time.monotonic() + remaining - (settings.sierra_api_client_timeout_seconds + 5)
    lease_seconds = math.ceil(remaining) + LEASE_GRACE_SECONDS
    logger.info("Writeback run started", extra={"run_at": (event or {}).get("time")})
    engine = get_engine(settings)
    with build_writeback_client(settings) as client:
        return run_writeback(engine, client, settings=settings, stop_at=stop_at, lease_seconds=lease_seconds)


def run_writeback(
    engine: Engine,
    sierra: SierraClient,
    *,
    settings: Settings,
    stop_at: float,
    lease_seconds: int,
    item_record_ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Work the queue (only `item_record_ids` when given) holding the job's lease; the outcome and counts.

    The outcome is "skipped" when another run holds the lease, "paused" when Sierra was in a maintenance
    window (the rest stays queued, no attempt spent), "partial" when items were retried or dead-lettered.
    """
    with job_run(engine, job_name=WRITEBACK_JOB_NAME, lease_seconds=lease_seconds) as record:
        if record is None:
            logger.info("Another writeback run holds the lease; this one does nothing")
            return {"outcome": "skipped", **WritebackRunCounts().as_dict()}
        counts = WritebackRunCounts()
        try:
            write_back_queue(
                engine,
                sierra,
                settings=settings,
                owner=record.owner,
                stop_at=stop_at,
                counts=counts,
                item_record_ids=item_record_ids,
            )
        finally:
            for name, value in counts.as_dict().items():
                record.add(name, value)
        if counts.paused:
            record.outcome = "paused"
        elif counts.retried or counts.dead_lettered:
            record.outcome = "partial"
        logger.info("Writeback run finished", extra={"outcome": record.outcome, **counts.as_dict()})
        return {"outcome": record.outcome, **counts.as_dict()}
