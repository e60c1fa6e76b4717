"""Benchmark: the items snapshot (default 1M rows) from PostgreSQL to Parquet on a moto S3 server.

Measures the ETL's path (COPY batches -> typed polars frames -> zstd Parquet -> put_object ->
manifest) for wall-clock seconds and the process's peak RSS, and, in the same run, a naive
row-by-row export (ORM objects one at a time into dicts, then one polars frame, one Parquet
file) on a smaller sample, scaled linearly to the full row count. Items are generated in the
database with generate_series. The moto server runs in its own process, so the objects it
holds do not count towards this process's memory.

    python bench/etl.py [--rows 1000000] [--baseline-rows 50000] [--quick]

Prints one JSON result line (bench/common.py); `bench/run.py` collects it. `--quick` is 100,000
rows against a 10,000-row baseline sample.
"""

import argparse
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx
import polars as pl
from botocore.config import Config
from common import bench_database, emit, peak_rss_mb, stopwatch
from polars.testing import assert_frame_equal
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from tarroitus.models import Item, WritebackEntry
from tarroitus.services.etl.export import ExportTarget, export_snapshot, snapshot_session
from tarroitus.services.etl.frames import ITEMS_SCHEMA, parquet_bytes
from tarroitus.services.etl.location import ParquetLocation
from tarroitus.services.etl.storage import read_partition

DATABASE = "tarroitus_bench_etl"

#: Service levels from the issue: the export of 1M items finishes in under 10 s and 1 GB of RSS.
TARGET_SECONDS = 10.0
TARGET_PEAK_RSS_MB = 1024.0
BATCH_ROWS = 250_000

GENERATE_ITEMS = """
INSERT INTO items (item_record_id, item_number, barcode, bib_record_id, bib_number, best_author, best_title,
    itype_code_num, item_type_name, material_code, material_name, location_code, location_name, status_code,
    status_name, call_number, classification, signum, suppressed, deleted, sierra_created_at, sierra_updated_at,
    synced_at, print_count, last_printed_at)
SELECT 1000000 + g, 'i' || (1000000 + g), lpad(g::text, 14, '0'), 2000000 + g / 2, 'b' || (2000000 + g / 2),
    'Kirjoittaja ' || (g % 5000) || ', Etunimi', 'Teoksen nimi ' || g || ' - "lainaus", pilkku',
    g % 30, 'Aineistolaji ' || (g % 30), (g % 10)::text, 'Materiaali ' || (g % 10),
    'loc' || (g % 40), 'Toimipiste ' || (g % 40), '-', 'AVAILABLE',
    '84.2 KIV', (g % 100) || '.' || (g % 7), upper(substr(md5(g::text), 1, 3)), g % 50 = 0, g % 97 = 0,
    timestamptz '2020-01-01' + g * interval '1 minute', timestamptz '2026-01-01' + (g % 100000) * interval '1 second',
    timestamptz '2026-11-01', g % 3, CASE WHEN g % 3 > 0 THEN timestamptz '2026-06-01' + g * interval '1 second' END
FROM generate_series(1, :rows) AS g
"""
QUEUE_WRITEBACKS = """
INSERT INTO writeback_queue (item_record_id, status, classification, attempts, completed_at)
SELECT item_record_id, 'done', classification, 1, last_printed_at FROM items WHERE print_count > 0
"""


def main() -> None:
    """Generate the items, run both exports, print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 10,000 in the baseline sample")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.baseline_rows = 100_000, 10_000
    with bench_database(DATABASE) as engine, moto_server() as endpoint:
        generate_items(engine, args.rows)
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="eu-north-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(s3={"addressing_style": "path"}),
        )
        location = ParquetLocation(bucket=f"bench-{uuid.uuid4().hex[:8]}", prefix="tarroitus")
        s3.create_bucket(Bucket=location.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        target = ExportTarget(s3=s3, location=location, registry=engine, run_token="bench", batch_rows=BATCH_ROWS)
        day = datetime.now(UTC).date()
        with stopwatch() as timing, snapshot_session(engine) as (source, _):
            exported = export_snapshot(source, target, table="items", dt=day)
        seconds = timing["seconds"]
        peak = peak_rss_mb()
        baseline_seconds, sample = naive_export(engine, s3, location, args.baseline_rows)
        check_same_rows(read_partition(s3, location, table="items", dt=day), sample)
    if exported.rows != args.rows:
        raise RuntimeError(f"exported {exported.rows} rows of {args.rows}")
    emit(
        "etl",
        metric="seconds",
        unit="s",
        value=seconds,
        baseline=baseline_seconds * args.rows / args.baseline_rows,
        target=TARGET_SECONDS,
        higher_is_better=False,
        ok=seconds <= TARGET_SECONDS and peak < TARGET_PEAK_RSS_MB,
        peak_rss_mb=round(peak, 1),
        peak_rss_target_mb=TARGET_PEAK_RSS_MB,
        peak_rss_ok=peak < TARGET_PEAK_RSS_MB,
        rows=exported.rows,
        rows_per_second=round(exported.rows / seconds),
        files=exported.files,
        parquet_bytes=exported.bytes,
        batch_rows=BATCH_ROWS,
        baseline_sample_rows=args.baseline_rows,
        baseline_sample_seconds=round(baseline_seconds, 3),
        baseline_method="ORM objects one at a time into dicts, one polars frame, one Parquet file; scaled linearly",
    )


def generate_items(engine: Engine, rows: int) -> None:
    """`rows` generated items, a third of them printed and written back."""
    with engine.begin() as connection:
        connection.execute(text(GENERATE_ITEMS), {"rows": rows})
        connection.execute(text(QUEUE_WRITEBACKS))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE items, writeback_queue"))


def naive_export(engine: Engine, s3: Any, location: ParquetLocation, rows: int) -> tuple[float, pl.DataFrame]:
    """The row-by-row way: ORM objects one at a time into dicts, then one frame and one Parquet upload."""
    started = time.perf_counter()
    records = []
    statement = (
        select(Item, WritebackEntry)
        .outerjoin(WritebackEntry, WritebackEntry.item_record_id == Item.item_record_id)
        .order_by(Item.item_record_id)
        .limit(rows)
    )
    with Session(engine) as session:
        for item, entry in session.execute(statement):
            record = {name: getattr(item, name) for name in ITEMS_SCHEMA.names() if hasattr(Item, name)}
            record["last_printed_by"] = str(item.last_printed_by) if item.last_printed_by else None
            record["writeback_status"] = entry.status.value if entry else None
            record["written_back_at"] = entry.completed_at if entry else None
            records.append(record)
    frame = pl.DataFrame(records, schema=ITEMS_SCHEMA, orient="row")
    s3.put_object(Bucket=location.bucket, Key=f"{location.prefix}/naive/items.parquet", Body=parquet_bytes(frame))
    return time.perf_counter() - started, frame


def check_same_rows(exported: pl.DataFrame, sample: pl.DataFrame) -> None:
    """Both exports wrote the same rows for the sampled keys: the comparison is like for like."""
    assert_frame_equal(exported.sort("item_record_id").head(sample.height), sample)


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server in a child process on a free port of 127.0.0.1; yields its endpoint URL."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(endpoint: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(endpoint + "/moto-api/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("moto server did not start")


if __name__ == "__main__":
    main()
