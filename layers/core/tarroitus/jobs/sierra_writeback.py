"""The scheduled Sierra writeback: write labelled items' new call numbers back to Sierra within the time budget."""

import math
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from sqlalchemy import Engine

from tarroitus.db import get_engine
from tarroitus.services.job_names import WRITEBACK_JOB_NAME
from tarroitus.services.job_runs import job_run
from tarroitus.services.sierra_connection import build_sierra_client
from tarroitus.services.writeback import WritebackRunCounts, write_back_queue
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
    run_at: datetime | None = None,
    deadline: float | None = None,
    engine: Engine | None = None,
    sierra: SierraClient | None = None,
) -> dict[str, Any]:
    """One writeback run: claim and write batches until the queue has nothing due or the deadline nears.

    `deadline` is a `time.monotonic()` value (the Lambda's end); items are started only until one client
    timeout (plus 5 s) before it, and unstarted claimed items are released. Returns the run's counts.
    """
    engine = engine or get_engine(settings)
    started = time.monotonic()
    deadline = deadline if deadline is not None else started + DEFAULT_BUDGET_SECONDS
    stop_at = deadline - (settings.sierra_api_client_timeout_seconds + 5)
    lease_seconds = math.ceil(max(deadline - started, 0)) + LEASE_GRACE_SECONDS
    with job_run(engine, job_name=WRITEBACK_JOB_NAME, lease_seconds=lease_seconds) as record:
        if record is None:
            logger.info("Another writeback run holds the lease; this one does nothing")
            return {"outcome": "skipped", **WritebackRunCounts().as_dict()}
        logger.info("Writeback run started", extra={"run_at": (run_at or datetime.now(UTC)).isoformat()})
        counts = WritebackRunCounts()
        client = sierra or build_sierra_client(settings)
        try:
            write_back_queue(engine, client, settings=settings, owner=record.owner, stop_at=stop_at, counts=counts)
        finally:
            for name, value in counts.as_dict().items():
                record.add(name, value)
            if sierra is None:
                client.close()
        if counts.retried or counts.dead_lettered:
            record.outcome = "partial"
        logger.info("Writeback run finished", extra={"outcome": record.outcome, **counts.as_dict()})
        return {"outcome": record.outcome, **counts.as_dict()}
