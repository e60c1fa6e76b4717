"""Export PostgreSQL tables to Hive-partitioned Parquet on S3, in fixed-size batches.

Each batch is one `COPY ... TO STDOUT` of at most `batch_rows` rows (a range of the table's key),
parsed into a typed frame and uploaded as one data file, so memory holds a few batches at most.
Snapshot tables (items, clients) become one partition dated by the run; event tables (label
events, writeback attempts) one partition per UTC day of the event, each day rewritten whole.
Only the ETL job imports this module (it needs polars).
"""

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
from aws_lambda_powertools import Logger, Tracer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.deadlines import Budget
from tarroitus.domain import ETL_JOB_NAME
from tarroitus.repositories import analytics as analytics_repository
from tarroitus.repositories import etl_source
from tarroitus.repositories import job_state as job_state_repository
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.etl.frames import TABLE_SCHEMAS, frame_from_csv
from tarroitus.services.etl.location import EVENT_TABLES, SNAPSHOT_TABLES, ParquetLocation
from tarroitus.services.etl.storage import Manifest, PartitionWriter

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = Logger(child=True)
tracer = Tracer(auto_patch=False)


@dataclass(frozen=True)
class ExportTarget:
    """Where an export writes: S3, the location, the database that records committed partitions."""

    s3: "S3Client"
    location: ParquetLocation
    registry: Engine
    run_token: str
    batch_rows: int


@dataclass
class TableExport:
    """What one table's export wrote."""

    table: str
    partitions: int = 0
    rows: int = 0
    files: int = 0
    bytes: int = 0
    complete: bool = True

    def add(self, manifest: Manifest) -> None:
        """Count a committed partition."""
        self.partitions += 1
        self.rows += manifest.row_count
        self.files += len(manifest.files)
        self.bytes += manifest.byte_count

    def as_counts(self) -> dict[str, Any]:
        """JSON-able counts for the job run record."""
        return {name: value for name, value in asdict(self).items() if name != "table"}


def day_window(dt: date) -> tuple[datetime, datetime]:
    """The UTC midnight-to-midnight interval of a day."""
    start = datetime.combine(dt, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def stream_frames(
    source: Session, *, table: str, batch_rows: int, window: tuple[datetime, datetime] | None = None
) -> Iterator[pl.DataFrame]:
    """The table's rows (in a window of event time, if given) as typed frames of at most `batch_rows` rows.

    The batch boundaries are computed first, so a reader thread can COPY batch N+1 while the
    caller parses, encodes and uploads batch N: the database and this process work at the same
    time. At most one finished batch waits in between, which bounds memory to a few batches.
    The session belongs to the reader thread until the generator finishes or is closed.
    """
    source_table = etl_source.SOURCE_TABLES[table]
    bounds = etl_source.list_batch_bounds(source, table=source_table, batch_rows=batch_rows, window=window)
    ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
    batches: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def read_batches() -> None:
        try:
            for lower, upper in ranges:
                if stop.is_set():
                    return
                data = etl_source.copy_range(source, table=source_table, lower=lower, upper=upper, window=window)
                _hand_over(batches, data, stop)
            _hand_over(batches, None, stop)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            _hand_over(batches, exc, stop)

    reader = threading.Thread(target=read_batches, name=f"etl-copy-{table}", daemon=True)
    reader.start()
    try:
        while (data := batches.get()) is not None:
            if isinstance(data, BaseException):
                raise data
            frame = frame_from_csv(data, TABLE_SCHEMAS[table])
            del data
            if frame.height:
                yield frame
    finally:
        stop.set()
        reader.join()


def _hand_over(
    batches: "queue.Queue[bytes | BaseException | None]", item: bytes | BaseException | None, stop: threading.Event
) -> None:
    while not stop.is_set():
        try:
            batches.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


@tracer.capture_method(capture_response=False)
def export_snapshot(source: Session, target: ExportTarget, *, table: str, dt: date) -> TableExport:
    """Write the whole table as the partition of day `dt`, replacing that day's earlier export."""
    if table not in SNAPSHOT_TABLES:
        raise ValueError(f"{table} is not a snapshot table")
    writer = PartitionWriter(s3=target.s3, location=target.location, table=table, dt=dt, run_token=target.run_token)
    for frame in stream_frames(source, table=table, batch_rows=target.batch_rows):
        writer.write(frame)
    result = TableExport(table=table)
    result.add(_commit(target, writer))
    return result


@tracer.capture_method(capture_response=False)
def export_events(
    source: Session, target: ExportTarget, *, table: str, since: datetime | None, deadline: Budget | None = None
) -> TableExport:
    """Rewrite every day partition of the table from the UTC day of `since` on (all days when None).

    Days that lost all their rows get an empty partition, so no stale copy outlives its source.
    Stops between days once `deadline` has passed, reporting `complete=False`.
    """
    if table not in EVENT_TABLES:
        raise ValueError(f"{table} is not an event table")
    first_day = since.astimezone(UTC).date() if since is not None else None
    start = day_window(first_day)[0] if first_day is not None else None
    days = set(etl_source.list_event_days(source, table=etl_source.SOURCE_TABLES[table], since=start))
    with session_scope(target.registry) as session:
        days.update(analytics_repository.list_partition_days(session, table_name=table, since=first_day))
    result = TableExport(table=table)
    for dt in sorted(days):
        if deadline is not None and not deadline.allows(0):
            result.complete = False
            break
        writer = PartitionWriter(s3=target.s3, location=target.location, table=table, dt=dt, run_token=target.run_token)
        for frame in stream_frames(source, table=table, batch_rows=target.batch_rows, window=day_window(dt)):
            writer.write(frame)
        result.add(_commit(target, writer))
    return result


def _commit(target: ExportTarget, writer: PartitionWriter) -> Manifest:
    manifest = writer.commit()
    with session_scope(target.registry) as session:
        analytics_repository.upsert_partition(
            session,
            table_name=manifest.table,
            dt=manifest.dt,
            row_count=manifest.row_count,
            file_count=len(manifest.files),
            byte_count=manifest.byte_count,
            manifest_key=target.location.manifest_key(manifest.table, manifest.dt),
            run_token=manifest.run_token,
            written_at=manifest.written_at,
        )
    logger.info("Partition committed", table=manifest.table, dt=manifest.dt.isoformat(), rows=manifest.row_count)
    return manifest


@contextmanager
def snapshot_session(engine: Engine) -> Iterator[tuple[Session, datetime]]:
    """A read-only REPEATABLE READ session, so every table of one export comes from one snapshot; and its time."""
    connection = engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with connection, Session(bind=connection) as session:
        yield session, etl_source.begin_snapshot(session)


def read_export_watermark(engine: Engine) -> datetime | None:
    """The snapshot time up to which the last complete run exported events (None before the first)."""
    with session_scope(engine) as session:
        state = analytics_repository.get_job_state(session, job_name=ETL_JOB_NAME)
        return state.changes_since if state else None


def record_export_watermark(engine: Engine, *, exported_until: datetime) -> None:
    """Remember that every event up to `exported_until` is exported."""
    with session_scope(engine) as session:
        job_state_repository.lock(session, job_name=ETL_JOB_NAME).changes_since = exported_until
