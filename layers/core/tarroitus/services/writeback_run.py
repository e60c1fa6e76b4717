"""One writeback run as a job: the job's lease against overlapping runs, the queue worked, the outcome recorded."""

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from sqlalchemy import Engine

from tarroitus.domain import WRITEBACK_JOB_NAME
from tarroitus.services.job_runs import job_run
from tarroitus.services.writeback.queue import WritebackRunCounts, write_back_queue
from tarroitus.settings import Settings
from tarroitus.sierra import SierraClient

logger = Logger(child=True)


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
