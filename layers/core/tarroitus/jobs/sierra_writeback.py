"""The scheduled Sierra writeback: write labelled items' new call numbers back to Sierra within the time budget."""

import math
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from sqlalchemy import Engine

from tarroitus.db import get_engine
from tarroitus.services.sierra_connection import build_writeback_client
from tarroitus.services.writeback_run import run_writeback
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
    timeout (plus 5 s) before it, and unstarted claimed items are released. Returns the run's counts and
    outcome (see `run_writeback`).
    """
    engine = engine or get_engine(settings)
    started = time.monotonic()
    deadline = deadline if deadline is not None else started + DEFAULT_BUDGET_SECONDS
    stop_at = deadline - (settings.sierra_api_client_timeout_seconds + 5)
    lease_seconds = math.ceil(max(deadline - started, 0)) + LEASE_GRACE_SECONDS
    logger.info("Writeback run started", extra={"run_at": (run_at or datetime.now(UTC)).isoformat()})
    client = sierra or build_writeback_client(settings)
    try:
        return run_writeback(engine, client, settings=settings, stop_at=stop_at, lease_seconds=lease_seconds)
    finally:
        if sierra is None:
            client.close()
