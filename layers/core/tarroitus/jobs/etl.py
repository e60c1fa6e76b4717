"""The daily ETL run: Parquet exports to S3, then the aggregate tables, each step's outcome recorded.

Steps: `items` and `clients` (snapshots dated by the run), `label_events` and
`writeback_attempts` (day partitions from the watermark's day, minus a lookback, or every day in
full mode), then `aggregates`. The four exports read one REPEATABLE READ snapshot. A failing step
is recorded and the others still run (the aggregates keep the API fresh when S3 is down); the run
then fails so the invocation errors and alarms fire. The watermark moves only when every step
succeeded.
"""

import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from sqlalchemy import Engine

from tarroitus.db import get_engine
from tarroitus.deadlines import Deadline
from tarroitus.domain import ETL_JOB_NAME
from tarroitus.errors import InvalidInputError, TarroitusError
from tarroitus.jobs.lease import JobRunRecord, job_run
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.analytics import refresh_aggregates
from tarroitus.services.etl.export import (
    ExportTarget,
    TableExport,
    export_events,
    export_snapshot,
    read_export_watermark,
    record_export_watermark,
    snapshot_session,
)
from tarroitus.services.etl.location import EVENT_TABLES, SNAPSHOT_TABLES, ParquetLocation
from tarroitus.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = Logger(child=True)

MODES = ("incremental", "full")
#: Longer than any run can last inside a 15-minute Lambda, so a crashed run's lease expires by the next day.
LEASE_SECONDS = 1800
#: No step starts with less time than this left before the deadline.
DEADLINE_MARGIN = timedelta(seconds=60)


def s3_client(settings: Settings) -> "S3Client":
    """An S3 client for the configured region, sent to `AWS_ENDPOINT_URL` (moto, LocalStack) when set."""
    endpoint = str(settings.aws_endpoint_url) if settings.aws_endpoint_url else None
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"})
    return boto3.client("s3", region_name=settings.aws_region, endpoint_url=endpoint, config=config)


class EtlStepsFailedError(TarroitusError):
    """One or more ETL steps failed; the run's counts say which and why."""

    code = "etl_steps_failed"


def run(
    settings: Settings,
    *,
    event: Mapping[str, Any] | None = None,
    deadline: Deadline | None = None,
) -> dict[str, Any]:
    """Run the ETL once; returns a small summary (counts only). Skips when another run holds the lease.

    The run's date is the event's `time` (the schedule's; now when the event has none) and its mode the
    event's `mode` (also inside `detail`), "incremental" by default.
    """
    event = event or {}
    run_at = datetime.fromisoformat(event["time"]) if event.get("time") else datetime.now(UTC)
    mode = event.get("mode") or (event.get("detail") or {}).get("mode") or "incremental"
    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    engine = get_engine(settings)
    location = ParquetLocation.from_settings(settings)
    run_date = run_at.astimezone(UTC).date()
    with job_run(engine, job_name=ETL_JOB_NAME, lease_seconds=LEASE_SECONDS) as record:
        if record is None:
            logger.info("Another ETL run holds the lease; skipping")
            return {"outcome": "skipped", "mode": mode}
        watermark = read_export_watermark(engine) if mode == "incremental" else None
        since = watermark - timedelta(seconds=settings.etl_lookback_seconds) if watermark else None
        target = ExportTarget(
            s3=s3_client(settings),
            location=location,
            registry=engine,
            run_token=f"{run_at.astimezone(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
            batch_rows=settings.etl_batch_rows,
        )
        record.counts["run"] = {
            "mode": mode,
            "run_date": run_date.isoformat(),
            "since": since.isoformat() if since else None,
            "location": location.uri(),
            "run_token": target.run_token,
        }
        steps = _Steps(record, deadline.less(DEADLINE_MARGIN.total_seconds()) if deadline else None)
        with snapshot_session(engine) as (source, snapshot_at):
            record.counts["run"]["snapshot_at"] = snapshot_at.isoformat()
            for table in SNAPSHOT_TABLES:
                steps.run(table, partial(export_snapshot, source, target, table=table, dt=run_date))
            for table in EVENT_TABLES:
                steps.run(
                    table, partial(export_events, source, target, table=table, since=since, deadline=steps.deadline)
                )
        steps.run("aggregates", partial(_refresh, engine, since))
        # Only a run whose every step succeeded moves the watermark: the next run then redoes
        # both the exports and the daily aggregates of any day this one left behind.
        if steps.all_succeeded():
            record_export_watermark(engine, exported_until=snapshot_at)
        if steps.failed:
            raise EtlStepsFailedError(f"ETL steps failed: {', '.join(steps.failed)}")
        return _summary(record, mode)


class _Steps:
    """Runs steps in order, recording each one's counts and outcome in the run record."""

    def __init__(self, record: JobRunRecord, deadline: Deadline | None) -> None:
        self.record = record
        self.deadline = deadline
        self.failed: list[str] = []
        self.outcomes: dict[str, str] = {}

    def run(self, name: str, action: Callable[[], TableExport | dict[str, int]]) -> None:
        if self.deadline is not None and not self.deadline.allows(0):
            self._finish(name, "skipped", {})
            return
        started = time.monotonic()
        try:
            result = action()
        except Exception as exc:
            logger.exception("ETL step failed", step=name)
            self.failed.append(name)
            self._finish(name, "failed", {"error": f"{type(exc).__name__}: {exc}"[:500]})
            return
        counts = result.as_counts() if isinstance(result, TableExport) else dict(result)
        outcome = "succeeded" if counts.get("complete", True) else "partial"
        self._finish(name, outcome, {**counts, "seconds": round(time.monotonic() - started, 3)})

    def _finish(self, name: str, outcome: str, counts: dict[str, Any]) -> None:
        self.outcomes[name] = outcome
        self.record.counts[name] = {"outcome": outcome, **counts}
        if outcome in {"skipped", "partial"}:
            self.record.outcome = "partial"

    def all_succeeded(self) -> bool:
        return all(outcome == "succeeded" for outcome in self.outcomes.values())


def _refresh(engine: Engine, since: datetime | None) -> dict[str, int]:
    with session_scope(engine) as session:
        return refresh_aggregates(session, since=since)


def _summary(record: JobRunRecord, mode: str) -> dict[str, Any]:
    exports = [record.counts.get(table, {}) for table in (*SNAPSHOT_TABLES, *EVENT_TABLES)]
    return {
        "outcome": record.outcome,
        "mode": mode,
        "rows": sum(int(step.get("rows", 0)) for step in exports),
        "partitions": sum(int(step.get("partitions", 0)) for step in exports),
        "steps": {name: counts.get("outcome") for name, counts in record.counts.items() if name != "run"},
    }
