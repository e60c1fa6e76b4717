"""Analytics figures: refreshing the aggregate tables, and reading them for the API.

Polars-free on purpose: the API function imports this module and has no analytics layer.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from aws_lambda_powertools import Tracer
from sqlalchemy.orm import Session

from tarroitus.domain import ETL_JOB_NAME
from tarroitus.errors import InvalidInputError
from tarroitus.models import AnalyticsProgress
from tarroitus.repositories import analytics as analytics_repository
from tarroitus.repositories import job_state as job_state_repository
from tarroitus.services.etl.location import EXPORTED_TABLES, SNAPSHOT_TABLES, ParquetLocation
from tarroitus.services.writeback.queue import FAILURE_OUTCOMES
from tarroitus.settings import Settings

tracer = Tracer(auto_patch=False)

#: Writeback attempt outcomes that count as failures; any other ("written", "skipped_as_done") is a success.
WRITEBACK_FAILURE_OUTCOMES = FAILURE_OUTCOMES


@tracer.capture_method(capture_response=False)
def refresh_aggregates(session: Session, *, since: datetime | None) -> dict[str, int]:
    """Recompute every aggregate table (daily ones from the UTC day of `since` on); rows written per table."""
    midnight = datetime.combine(since.astimezone(UTC).date(), time.min, tzinfo=UTC) if since is not None else None
    return {
        "analytics_prints_daily": analytics_repository.refresh_prints_daily(session, since=midnight),
        "analytics_writeback_daily": analytics_repository.refresh_writeback_daily(
            session, since=midnight, failure_outcomes=WRITEBACK_FAILURE_OUTCOMES
        ),
        "analytics_writeback_errors": analytics_repository.refresh_writeback_errors(
            session, since=midnight, failure_outcomes=WRITEBACK_FAILURE_OUTCOMES
        ),
        "analytics_progress": analytics_repository.refresh_progress(session),
        "analytics_classifications": analytics_repository.refresh_classifications(session),
        "analytics_station_throughput": analytics_repository.refresh_station_throughput(session),
    }


@dataclass(frozen=True)
class ProgressGroup:
    """Items, labelled, written-back and needing a reprint, of one location or item type."""

    code: str | None
    name: str | None
    items_total: int
    items_labelled: int
    items_written_back: int
    items_reprint_needed: int


@dataclass(frozen=True)
class Progress:
    """The project's progress: totals, by location and by item type."""

    items_total: int
    items_labelled: int
    items_written_back: int
    items_reprint_needed: int
    by_location: list[ProgressGroup]
    by_item_type: list[ProgressGroup]


def read_progress(session: Session) -> Progress:
    """Items labelled, written back and needing a reprint against the total, overall, per location and item type."""
    rows = analytics_repository.list_progress(session)
    return Progress(
        items_total=sum(row.items_total for row in rows),
        items_labelled=sum(row.items_labelled for row in rows),
        items_written_back=sum(row.items_written_back for row in rows),
        items_reprint_needed=sum(row.items_reprint_needed for row in rows),
        by_location=_group(rows, lambda row: (row.location_code, row.location_name)),
        by_item_type=_group(
            rows, lambda row: (str(row.itype_code_num) if row.itype_code_num is not None else None, row.item_type_name)
        ),
    )


def _group(
    rows: Iterable[AnalyticsProgress], key: Callable[[AnalyticsProgress], tuple[str | None, str | None]]
) -> list[ProgressGroup]:
    totals: dict[tuple[str | None, str | None], list[int]] = {}
    for row in rows:
        sums = totals.setdefault(key(row), [0, 0, 0, 0])
        sums[0] += row.items_total
        sums[1] += row.items_labelled
        sums[2] += row.items_written_back
        sums[3] += row.items_reprint_needed
    groups = [ProgressGroup(code, name, *sums) for (code, name), sums in totals.items()]
    return sorted(groups, key=lambda group: (-group.items_total, group.code or "", group.name or ""))


@dataclass(frozen=True)
class DayPrints:
    """Labels printed on one UTC day, and by how many clients."""

    day: date
    labels: int
    clients: int


def read_prints_per_day(
    session: Session, *, date_from: date | None, date_to: date | None, client_id: uuid.UUID | None = None
) -> list[DayPrints]:
    """Labels per day in an inclusive date range (optionally of one client), oldest first."""
    _check_range(date_from, date_to)
    rows = analytics_repository.list_prints_per_day(session, date_from=date_from, date_to=date_to, client_id=client_id)
    return [DayPrints(day=row.day, labels=int(row.labels), clients=int(row.clients)) for row in rows]


@dataclass(frozen=True)
class StationThroughput:
    """One printer station's output."""

    client_id: uuid.UUID | None
    client_name: str | None
    labels: int
    active_days: int
    active_hours: int
    labels_per_active_hour: float
    busiest_hour_labels: int
    first_printed_at: datetime
    last_printed_at: datetime


def read_client_throughput(session: Session) -> list[StationThroughput]:
    """Every client that printed, busiest first, with labels per active hour."""
    return [
        StationThroughput(
            client_id=row.client_id,
            client_name=row.client_name,
            labels=row.labels,
            active_days=row.active_days,
            active_hours=row.active_hours,
            labels_per_active_hour=round(row.labels / row.active_hours, 2) if row.active_hours else 0.0,
            busiest_hour_labels=row.busiest_hour_labels,
            first_printed_at=row.first_printed_at,
            last_printed_at=row.last_printed_at,
        )
        for row in analytics_repository.list_station_throughput(session)
    ]


@dataclass(frozen=True)
class WritebackDay:
    """Writeback attempts of one UTC day."""

    day: date
    succeeded: int
    failed: int
    items: int


@dataclass(frozen=True)
class WritebackErrorCount:
    """How often one Sierra error (code and HTTP status) failed a writeback, with its latest message."""

    sierra_code: int | None
    http_status: int | None
    failures: int
    last_error: str | None


@dataclass(frozen=True)
class WritebackFailures:
    """Writeback outcomes per day and the most frequent errors over the range."""

    days: list[WritebackDay]
    top_errors: list[WritebackErrorCount]


def read_writeback_failures(
    session: Session, *, date_from: date | None, date_to: date | None, top: int
) -> WritebackFailures:
    """Successes and failures per day in an inclusive date range, and the `top` error codes in it."""
    _check_range(date_from, date_to)
    days = analytics_repository.list_writeback_days(session, date_from=date_from, date_to=date_to)
    errors = analytics_repository.list_top_writeback_errors(session, date_from=date_from, date_to=date_to, limit=top)
    return WritebackFailures(
        days=[WritebackDay(day=d.day, succeeded=d.succeeded, failed=d.failed, items=d.items) for d in days],
        top_errors=[
            WritebackErrorCount(
                sierra_code=row.sierra_code,
                http_status=row.http_status,
                failures=int(row.failures),
                last_error=row.last_error,
            )
            for row in errors
        ],
    )


@dataclass(frozen=True)
class ClassificationShare:
    """Labels printed with one classification (or classification prefix)."""

    classification: str
    labels: int
    share: float


@dataclass(frozen=True)
class ClassificationDistribution:
    """The most printed classifications and the total they are shares of."""

    total_labels: int
    classifications: list[ClassificationShare]


def read_classification_distribution(
    session: Session, *, prefix_length: int | None, limit: int
) -> ClassificationDistribution:
    """Labels per classification (or per its first `prefix_length` characters), most printed first."""
    total = analytics_repository.count_printed_labels(session)
    rows = analytics_repository.list_classifications(session, prefix_length=prefix_length, limit=limit)
    return ClassificationDistribution(
        total_labels=total,
        classifications=[
            ClassificationShare(
                classification=row.classification,
                labels=int(row.labels),
                share=round(int(row.labels) / total, 6) if total else 0.0,
            )
            for row in rows
        ],
    )


@dataclass(frozen=True)
class TableStatus:
    """What the Parquet export holds of one table."""

    table: str
    kind: str
    location: str
    first_dt: date | None
    last_dt: date | None
    partitions: int
    rows: int
    bytes: int


@dataclass(frozen=True)
class EtlRunStatus:
    """One ETL run as recorded by the job bookkeeping."""

    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class DataStatus:
    """The analysable history: date range, rows per table, the last run and where the files are."""

    location: str | None
    first_dt: date | None
    last_dt: date | None
    tables: list[TableStatus]
    last_run: EtlRunStatus | None
    exported_until: datetime | None


def read_data_status(session: Session, *, settings: Settings) -> DataStatus:
    """The available date range, rows per table (newest snapshot or all events), the last ETL run, the S3 location."""
    summaries = {row.table_name: row for row in analytics_repository.summarise_partitions(session)}
    runs = job_state_repository.list_recent_runs(session, job_name=ETL_JOB_NAME, limit=1)
    last_run = runs[0] if runs else None
    recorded = ((last_run.counts or {}).get("run") or {}).get("location") if last_run else None
    location = recorded or (ParquetLocation.from_settings(settings).uri() if settings.parquet_bucket else None)
    tables = [_table_status(name, summaries.get(name), location) for name in EXPORTED_TABLES]
    firsts = [table.first_dt for table in tables if table.first_dt is not None]
    lasts = [table.last_dt for table in tables if table.last_dt is not None]
    state = analytics_repository.get_job_state(session, job_name=ETL_JOB_NAME)
    return DataStatus(
        location=location,
        first_dt=min(firsts, default=None),
        last_dt=max(lasts, default=None),
        tables=tables,
        last_run=EtlRunStatus(
            started_at=last_run.started_at,
            finished_at=last_run.finished_at,
            outcome=last_run.outcome,
            counts=last_run.counts or {},
            error=last_run.error,
        )
        if last_run
        else None,
        exported_until=state.changes_since if state else None,
    )


def _table_status(table: str, summary: Any, location: str | None) -> TableStatus:
    snapshot = table in SNAPSHOT_TABLES
    return TableStatus(
        table=table,
        kind="snapshot" if snapshot else "events",
        location=f"{location}{table}/" if location else "",
        first_dt=summary.first_dt if summary else None,
        last_dt=summary.last_dt if summary else None,
        partitions=int(summary.partitions) if summary else 0,
        rows=int(summary.rows_newest if snapshot else summary.rows_total) if summary else 0,
        bytes=int(summary.bytes_total) if summary else 0,
    )


def _check_range(date_from: date | None, date_to: date | None) -> None:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidInputError(
            "date_from is after date_to",
            details=[{"field": "date_from", "message": "must be on or before date_to"}],
        )
