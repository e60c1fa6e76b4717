"""Writeback throughput against a Sierra with 50 ms latency, and duplicate writes (must be 0).

`python bench/writeback.py [--quick]`. The Sierra simulator runs in its own process (as Sierra is a remote
server) with 50 ms added to every request; PostgreSQL is the embedded server in `.data/bench-postgres`.

- value: items/s of the writeback as built (`write_back_queue` with the default settings: batches of
  200, `SIERRA_API_CLIENT_POOL_SIZE` = 8 workers over one client), 500 items (`--quick`: 200).
- baseline: the original design's loop measured in the same run on the same simulator: batches of 20,
  one item at a time, no concurrency (the same code with one worker and batches of 20), 100 items
  (`--quick`: 40). The original also waited 30 s between batches, i.e. at most 20/30 = 0.67 items/s:
  reported as `original_schedule_items_per_second`.
- duplicates: PUTs the simulator received beyond one per item (every PUT succeeds here, no faults).

Each design is measured three times on fresh items (`--quick`: once) and the median is reported, with every
run's figure and the machine's load average, since the figure moves with the load of a shared machine.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
from common import PROJECT_ROOT, emit, stopwatch
from psycopg import sql
from sqlalchemy import Engine, func, select

from tarroitus.db import create_db_engine, session_scope
from tarroitus.embedded_db import ensure_embedded_database, start_embedded_server
from tarroitus.migrate import upgrade_to_head
from tarroitus.models import Item, WritebackEntry, WritebackStatus
from tarroitus.services.writeback import write_back_queue
from tarroitus.settings import Settings
from tarroitus.sierra import SierraClient

TARGET_ITEMS_PER_SECOND = 50.0
LATENCY_MS = 50.0
SIMULATED_ITEMS = 2000
SIZES = {"full": (500, 100), "quick": (200, 40)}
REPEATS = {"full": 3, "quick": 1}
ORIGINAL_BATCH = 20
ORIGINAL_INTERVAL_SECONDS = 30
DATABASE = "tarroitus_bench_writeback"
CLIENT_KEY = "bench-key"
CLIENT_SECRET = "bench-secret"


def main() -> int:
    """Measure, print the result line; exit 1 if any item was written twice or left unwritten."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 items (baseline 40) instead of 500 (100)")
    args = parser.parse_args()
    size = "quick" if args.quick else "full"
    items, baseline_items = SIZES[size]
    repeats = REPEATS[size]
    engine = fresh_database()
    with sierra_simulator() as base_url:
        settings = Settings(sierra_api_endpoint=base_url, sierra_update_backoff_base_seconds=0.0)
        ids = iter(live_item_ids(settings, (items + baseline_items) * repeats))
        baseline_settings = settings.model_copy(
            update={"sierra_api_client_pool_size": 1, "sierra_update_batch_size_limit": ORIGINAL_BATCH}
        )
        baseline_runs: list[float] = []
        runs: list[float] = []
        for _ in range(repeats):
            baseline_runs.append(items_per_second(engine, baseline_settings, take(ids, baseline_items), owner="loop"))
            runs.append(items_per_second(engine, settings, take(ids, items), owner="writeback"))
        puts = simulator_stats(base_url)["puts"]
    done = count_done(engine)
    written = (items + baseline_items) * repeats
    duplicates = puts - done
    emit(
        "writeback",
        metric="items_per_second",
        unit="items/s",
        value=statistics.median(runs),
        baseline=statistics.median(baseline_runs),
        target=TARGET_ITEMS_PER_SECOND,
        duplicates=duplicates,
        items=items,
        baseline_items=baseline_items,
        runs=[round(value, 2) for value in runs],
        baseline_runs=[round(value, 2) for value in baseline_runs],
        latency_ms=LATENCY_MS,
        workers=settings.sierra_api_client_pool_size,
        batch_size=settings.sierra_update_batch_size_limit,
        original_schedule_items_per_second=round(ORIGINAL_BATCH / ORIGINAL_INTERVAL_SECONDS, 2),
        load_average=round(os.getloadavg()[0], 2),
        cpus=os.cpu_count(),
    )
    if duplicates or done != written:
        sys.stderr.write(f"{duplicates} duplicate PUTs; {done} of {written} items written\n")
        return 1
    return 0


def take(ids: Iterator[int], count: int) -> list[int]:
    """The next `count` item ids."""
    return [next(ids) for _ in range(count)]


def items_per_second(engine: Engine, settings: Settings, ids: list[int], *, owner: str) -> float:
    """Queue `ids`, drain the queue with these settings, and return the throughput."""
    with session_scope(engine) as session:
        session.add_all(Item(item_record_id=item_id) for item_id in ids)
        session.flush()
        session.add_all(
            WritebackEntry(item_record_id=item_id, status=WritebackStatus.QUEUED, classification=f"{item_id % 99}.1")
            for item_id in ids
        )
    with sierra_client(settings) as client, stopwatch() as elapsed:
        counts = write_back_queue(engine, client, settings=settings, owner=owner, stop_at=time.monotonic() + 1800)
    if counts.written != len(ids):
        raise RuntimeError(f"{owner}: wrote {counts.written} of {len(ids)} items: {counts}")
    return len(ids) / elapsed["seconds"]


def fresh_database() -> Engine:
    """An empty, migrated database on the embedded server."""
    data_dir = PROJECT_ROOT / ".data" / "bench-postgres"
    admin_uri = str(start_embedded_server(data_dir).get_uri("postgres"))
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
    engine = create_db_engine(ensure_embedded_database(str(data_dir), DATABASE), pool_size=2)
    upgrade_to_head(engine)
    return engine


@contextmanager
def sierra_simulator() -> Iterator[str]:
    """The simulator in its own process with LATENCY_MS on every request; yields its API base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "sierra_simulator",
        f"--port={port}",
        f"--items={SIMULATED_ITEMS}",
        f"--latency-ms={LATENCY_MS}",
        f"--client-key={CLIENT_KEY}",
        f"--client-secret={CLIENT_SECRET}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url + "/iii/sierra-api/v6"
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the Sierra simulator exited")
        try:
            httpx.get(url + "/_simulator/stats", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the Sierra simulator did not start")


def simulator_stats(base_url: str) -> dict[str, int]:
    response = httpx.get(base_url.split("/iii/")[0] + "/_simulator/stats", timeout=10)
    response.raise_for_status()
    stats: dict[str, int] = response.json()
    return stats


@contextmanager
def sierra_client(settings: Settings) -> Iterator[SierraClient]:
    """A client as the job builds it: one connection per worker."""
    client = SierraClient.from_settings(settings, client_key=CLIENT_KEY, client_secret=CLIENT_SECRET)
    try:
        yield client
    finally:
        client.close()


def live_item_ids(settings: Settings, count: int) -> list[int]:
    """The first `count` items the simulator has that are not deleted."""
    with sierra_client(settings) as client:
        page = client.list_items(id_range_start=0, deleted=False, fields="id", limit=min(2000, SIMULATED_ITEMS))
    ids = [item.int_id for item in page.entries][:count]
    if len(ids) < count:
        raise RuntimeError(f"the simulator has only {len(ids)} live items")
    return ids


def count_done(engine: Engine) -> int:
    with session_scope(engine) as session:
        done = session.scalar(
            select(func.count()).select_from(WritebackEntry).where(WritebackEntry.status == WritebackStatus.DONE)
        )
    return int(done or 0)


if __name__ == "__main__":
    sys.exit(main())
