"""Benchmark: a full Sierra sync of 100,000 simulated items, bulk COPY upsert against a per-row ORM upsert.

Three measurements in one run, against the Sierra simulator (its own process, on a free port) and an
embedded PostgreSQL database of its own:

1. value: the bulk path in isolation. Every item and bib is read from the simulator and mapped first;
   then `upsert_items` (COPY into a temporary table, one INSERT ... ON CONFLICT) stores them in pages
   of 2,000, one transaction per page, into an empty table.
2. baseline: the same rows of a smaller sample stored the naive way: one ORM upsert per row
   (`session.execute(insert(Item).on_conflict_do_update(...), row)`, the statement built once), one
   transaction per page.
3. end_to_end: the full pass itself (`sync_from_sierra`: HTTP pages, bib look-ups, mapping, upsert,
   cursor) from an empty table, in items per second.

    python bench/sync_full.py [--items 100000] [--baseline-items 5000] [--quick]

Prints one JSON result line (bench/common.py); `ratio` = value / baseline, target 10. `--quick` is
20,000 items against a 2,000-row baseline sample.
"""

import argparse
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from typing import Any

import httpx
from common import PROJECT_ROOT, emit, stopwatch
from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tarroitus.db import create_db_engine
from tarroitus.embedded_db import create_database_if_missing, start_embedded_server
from tarroitus.migrate import upgrade_to_head
from tarroitus.models import Item
from tarroitus.repositories.item_upserts import SYNC_COLUMNS, upsert_items
from tarroitus.services.deadlines import Deadline
from tarroitus.services.item_mapping import first_bib_id, is_deleted, map_bib, map_item
from tarroitus.services.sierra_sync import SyncOptions, sync_from_sierra
from tarroitus.services.sync_pages import SYNC_ITEM_FIELDS
from tarroitus.sierra import MAX_LIMIT, SierraClient

DATA_DIR = PROJECT_ROOT / ".data" / "bench-postgres"
DATABASE = "tarroitus_bench_sync"
TARGET_RATIO = 10
PAGE = MAX_LIMIT
SIMULATOR_KEY = "bench-key"
SIMULATOR_SECRET = "bench-secret"


def main() -> None:
    """Run the three measurements and print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--baseline-items", type=int, default=5_000)
    parser.add_argument("--quick", action="store_true", help="20,000 items, 2,000 in the baseline sample")
    args = parser.parse_args()
    if args.quick:
        args.items, args.baseline_items = 20_000, 2_000
    engine = prepare_database()
    with simulator(args.items) as base_url, SierraClient(base_url, SIMULATOR_KEY, SIMULATOR_SECRET) as client:
        with stopwatch() as reading:
            rows = read_rows(client)
        reset(engine)
        with stopwatch() as bulk:
            for page in pages(rows):
                with Session(engine) as session, session.begin():
                    upsert_items(session, rows=page)
        check_stored(engine, rows)
        reset(engine)
        sample = rows[: args.baseline_items]
        statement = per_row_upsert()
        with stopwatch() as naive:
            for page in pages(sample):
                with Session(engine) as session, session.begin():
                    for row in page:
                        session.execute(statement, row)
        check_stored(engine, sample)
        reset(engine)
        options = SyncOptions(batch_size=PAGE, lookback=timedelta(minutes=5), lease_seconds=3600)
        with stopwatch() as end_to_end:
            summary = sync_from_sierra(engine, client, options=options, budget=Deadline.after(3600))
    engine.dispose()
    if summary["outcome"] != "succeeded" or summary["items_read"] != args.items:
        raise RuntimeError(f"the end-to-end sync did not complete: {summary}")
    value = len(rows) / bulk["seconds"]
    baseline = len(sample) / naive["seconds"]
    emit(
        "sync_full",
        metric="items_per_second",
        unit="items/s",
        value=value,
        baseline=baseline,
        target=TARGET_RATIO,
        ok=value / baseline >= TARGET_RATIO,
        items=args.items,
        rows_upserted=len(rows),
        baseline_items=len(sample),
        upsert_seconds=round(bulk["seconds"], 3),
        baseline_seconds=round(naive["seconds"], 3),
        end_to_end_items_per_second=round(args.items / end_to_end["seconds"], 1),
        end_to_end_seconds=round(end_to_end["seconds"], 3),
        read_and_map_seconds=round(reading["seconds"], 3),
        pages=summary["pages"],
    )


def read_rows(client: SierraClient) -> list[dict[str, Any]]:
    """Every live simulator item mapped to its row (read the way the full pass reads: pages, then bibs)."""
    rows: list[dict[str, Any]] = []
    next_id = 0
    while True:
        entries = client.list_items_raw(id_range_start=next_id, limit=PAGE, fields=SYNC_ITEM_FIELDS)["entries"]
        bib_ids = sorted({bib_id for entry in entries if (bib_id := first_bib_id(entry)) is not None})
        found = client.list_bibs_raw(ids=bib_ids)["entries"] if bib_ids else []
        bibs = {int(bib["id"]): map_bib(bib) for bib in found}
        for entry in entries:
            if not is_deleted(entry):
                bib_id = first_bib_id(entry)
                rows.append(map_item(entry, bibs.get(bib_id) if bib_id is not None else None))
        if len(entries) < PAGE:
            return rows
        next_id = int(entries[-1]["id"]) + 1


def pages(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The rows in pages of PAGE."""
    for start in range(0, len(rows), PAGE):
        yield rows[start : start + PAGE]


def per_row_upsert() -> Any:
    """The ORM upsert statement the baseline executes once per row (built once, so only execution is timed)."""
    statement = insert(Item)
    return statement.on_conflict_do_update(
        index_elements=[Item.item_record_id],
        set_={column: statement.excluded[column] for column in SYNC_COLUMNS if column != "item_record_id"},
    )


def check_stored(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Both paths must store every row, with the same content."""
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM items")).scalar_one()
        last = rows[-1]
        title = connection.execute(
            text("SELECT best_title FROM items WHERE item_record_id = :id"), {"id": last["item_record_id"]}
        ).scalar_one()
    if stored != len(rows) or title != last["best_title"]:
        raise RuntimeError(f"stored {stored} rows of {len(rows)}")


def prepare_database() -> Engine:
    """A migrated database of the benchmark's own on the embedded server."""
    server = start_embedded_server(DATA_DIR)
    create_database_if_missing(server.get_uri("postgres"), DATABASE)
    url = str(server.get_uri(DATABASE)).replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_db_engine(url, pool_size=2)
    upgrade_to_head(engine)
    return engine


def reset(engine: Engine) -> None:
    """Empty the tables a sync writes."""
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE items, job_state, job_runs, sync_uploads CASCADE"))


@contextmanager
def simulator(items: int) -> Iterator[str]:
    """The Sierra simulator with `items` items in its own process; yields its API base URL."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "sierra_simulator",
        "--port",
        str(port),
        "--items",
        str(items),
        "--client-key",
        SIMULATOR_KEY,
        "--client-secret",
        SIMULATOR_SECRET,
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/iii/sierra-api/v6"
    try:
        wait_until_up(base_url, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_up(base_url: str, process: subprocess.Popen[bytes]) -> None:
    """Poll the token endpoint until the simulator answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the simulator exited")
        try:
            httpx.post(f"{base_url}/token", auth=(SIMULATOR_KEY, SIMULATOR_SECRET), timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the simulator did not start")


if __name__ == "__main__":
    main()
