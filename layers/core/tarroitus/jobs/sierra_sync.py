"""The Sierra sync job: the lease, the engine and the Sierra client of one run, and the pass it makes.

A run does one pass: the full pass (`services.sync.full`, resumed from its cursor) until it completes,
then changes passes (`services.sync.changes`). It stops before a page that would not fit in its time
budget and records the outcome "partial"; the next run carries on. Counts are stored on the run record
even when the run fails. A run is started by the schedule, by a manual event (`{"mode": "full"}`), or
on demand from the API: then in AWS by invoking the sync Lambda asynchronously, locally in-process.
"""

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools import Logger, Tracer
from sqlalchemy import Engine

from tarroitus.db import get_engine
from tarroitus.deadlines import Budget, Deadline
from tarroitus.domain import SYNC_JOB_NAME, SyncMode
from tarroitus.errors import ServiceUnavailableError
from tarroitus.jobs.lease import job_run
from tarroitus.jobs.sierra_connection import build_sierra_client
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.sync.changes import run_changes_sync
from tarroitus.services.sync.full import run_full_sync
from tarroitus.services.sync.pages import PagePacer, SyncCounts
from tarroitus.services.sync.state import choose_mode
from tarroitus.settings import Settings
from tarroitus.sierra import SierraClient

logger = Logger(child=True)
tracer = Tracer(auto_patch=False)

#: Time kept back from the Lambda's remaining time: the last page's commit and the run record.
SAFETY_MARGIN_SECONDS = 20.0
#: Extra lease time past the run's budget, so a crashed run's lease lapses soon after it died.
LEASE_GRACE_SECONDS = 60
#: Budget of a run started in-process (no Lambda timeout applies): as long as the Lambda's longest.
LOCAL_RUN_BUDGET_SECONDS = 900.0

#: Runs a function after the response went out (FastAPI's `BackgroundTasks.add_task`).
Scheduler = Callable[..., Any]


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
    event: Mapping[str, Any],
    deadline: Deadline,
) -> dict[str, Any]:
    """One sync run on the configured database and Sierra; returns its outcome and counts (`outcome` is
    "skipped" when another run holds the lease)."""
    mode = requested_mode(event)
    logger.info("Sierra sync run started", extra={"run_at": event.get("time"), "requested_mode": mode})
    options = SyncOptions.from_settings(settings, lease_seconds=math.ceil(deadline.remaining()) + LEASE_GRACE_SECONDS)
    engine = get_engine(settings)
    with build_sierra_client(settings) as client:
        return sync_from_sierra(engine, client, options=options, budget=deadline, mode=mode)


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
    """Hold the lease and run one pass; `mode=FULL` restarts a full pass when the sync is in changes mode."""
    with job_run(engine, job_name=SYNC_JOB_NAME, lease_seconds=options.lease_seconds) as record:
        if record is None:
            logger.info("Another sync run holds the lease; not starting")
            return {"outcome": "skipped", "reason": "another sync run holds the lease"}
        counts, pacer = SyncCounts(), PagePacer(budget)
        with session_scope(engine) as session:
            chosen = choose_mode(session, requested=mode)
        record.counts["mode"] = chosen.value
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
            record.counts.update(counts.as_dict())
        record.outcome = "succeeded" if completed else "partial"
    counts.log_progress("Sync run finished", mode=chosen.value, outcome=record.outcome)
    return {"outcome": record.outcome, "mode": chosen.value, **counts.as_dict()}


@tracer.capture_method(capture_response=False)
def start(settings: Settings, *, mode: SyncMode | None, schedule: Scheduler) -> Literal["lambda", "in_process"]:
    """Start a run now: invoke SYNC_FUNCTION_NAME asynchronously, or hand `run_in_process` to `schedule`."""
    if settings.sync_function_name:
        invoke_sync_function(settings, mode=mode)
        return "lambda"
    schedule(run_in_process, settings, mode)
    return "in_process"


def invoke_sync_function(settings: Settings, *, mode: SyncMode | None) -> None:
    """Invoke the sync Lambda with InvocationType Event and a manual `{"mode": ...}` event."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    endpoint = str(settings.aws_endpoint_url) if settings.aws_endpoint_url else None
    # An admin waits for this answer: a few quick attempts, not botocore's long default backoff.
    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
    client = boto3.client("lambda", region_name=settings.aws_region, endpoint_url=endpoint, config=config)
    payload = json.dumps({"mode": mode.value if mode else None}).encode()
    try:
        client.invoke(FunctionName=str(settings.sync_function_name), InvocationType="Event", Payload=payload)
    except (BotoCoreError, ClientError) as exc:
        logger.exception("Could not invoke the sync function", extra={"function": settings.sync_function_name})
        raise ServiceUnavailableError("The sync function could not be started") from exc


def run_in_process(settings: Settings, mode: SyncMode | None) -> dict[str, Any] | None:
    """One sync run in this process (local development), with the Lambda's longest budget.

    It runs as a background task after the 202 went out, so nobody can receive its exception: a
    failure is logged with its traceback (and the run record says "failed"), and None is returned.
    """
    event = {"mode": mode.value if mode else None, "time": datetime.now(UTC).isoformat()}
    try:
        summary = run(settings, event=event, deadline=Deadline.after(LOCAL_RUN_BUDGET_SECONDS))
    except Exception:
        logger.exception("In-process sync run failed")
        return None
    logger.info("In-process sync run finished", extra=summary)
    return summary
