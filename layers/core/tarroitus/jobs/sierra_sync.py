"""The scheduled Sierra sync: one pass (full or changes) within the invocation's time budget."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from sqlalchemy import Engine

from tarroitus.deadlines import Deadline
from tarroitus.domain import SyncMode
from tarroitus.services.sync.passes import run_sync
from tarroitus.settings import Settings
from tarroitus.sierra import SierraClient

logger = Logger(child=True)

#: Time kept back from the Lambda's remaining time: the last page's commit and the run record.
SAFETY_MARGIN_SECONDS = 20.0


def deadline_for(remaining_millis: int) -> Deadline:
    """The run's deadline from `context.get_remaining_time_in_millis()`, less the safety margin."""
    return Deadline.from_lambda_remaining(remaining_millis, margin_seconds=SAFETY_MARGIN_SECONDS)


def requested_mode(event: Mapping[str, Any]) -> SyncMode | None:
    """The pass a manual event asks for (`{"mode": "full"}`, also inside `detail`); None for the schedule."""
    detail = event.get("detail")
    value = event.get("mode") or (detail.get("mode") if isinstance(detail, Mapping) else None)
    return SyncMode(value) if value else None


def run(
    settings: Settings,
    *,
    deadline: Deadline,
    mode: SyncMode | None = None,
    run_at: datetime | None = None,
    engine: Engine | None = None,
    client: SierraClient | None = None,
) -> dict[str, Any]:
    """One sync run; returns its outcome and counts (`outcome` is "skipped" when another run holds the lease)."""
    moment = run_at or datetime.now(UTC)
    logger.info("Sierra sync run started", extra={"run_at": moment.isoformat(), "requested_mode": mode})
    return run_sync(settings, deadline=deadline, mode=mode, engine=engine, client=client)
