"""Writeback throughput against a Sierra with 50 ms latency, and duplicate writes (must be 0).

`python bench/writeback.py [--quick]`. The Sierra simulator runs in its own process (as Sierra is a remote
server) with 50 ms added to every request; PostgreSQL is a database of the benchmark's own on the embedded server.

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
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from common import bench_database, emit, stopwatch
from sierra_process import CLIENT_KEY, CLIENT_SECRET, sierra_simulator
from sqlalchemy import Engine, func, select

from tarroitus.db import session_scope
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


def main() -> int:
    """Measure, print the result line; exit 1 if any item was written twice or left unwritten."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 items (baseline 40) instead of 500 (100)")
    args = parser.parse_args()
    size = "quick" if args.quick else "full"
    items, baseline_items = SIZES[size]
    repeats = REPEATS[size]
    with (
        bench_database(DATABASE) as engine,
        sierra_simulator(SIMULATED_ITEMS, latency_ms=LATENCY_MS) as simulator,
    ):
        settings = Settings(sierra_api_endpoint=simulator.base_url, sierra_update_backoff_base_seconds=0.0)
        ids = iter(live_item_ids(settings, (items + baseline_items) * repeats))
        baseline_settings = settings.model_copy(
            update={"sierra_api_client_pool_size": 1, "sierra_update_batch_size_limit": ORIGINAL_BATCH}
        )
        baseline_runs: list[float] = []
        runs: list[float] = []
        for _ in range(repeats):
            baseline_runs.append(items_per_second(engine, baseline_settings, take(ids, baseline_items), owner="loop"))
            runs.append(items_per_second(engine, settings, take(ids, items), owner="writeback"))
        puts = simulator.stats()["puts"]
        done = count_done(engine)
    written = (items + baseline_items) * repeats
    duplicates = puts - done
    value = statistics.median(runs)
    emit(
        "writeback",
        metric="items_per_second",
        unit="items/s",
        value=value,
        baseline=statistics.median(baseline_runs),
        target=TARGET_ITEMS_PER_SECOND,
        ok=value >= TARGET_ITEMS_PER_SECOND and duplicates == 0 and done == written,
        duplicates=duplicates,
        items=items,
        baseline_items=baseline_items,
        runs=[round(value, 2) for value in runs],
        baseline_runs=[round(value, 2) for value in baseline_runs],
        latency_ms=LATENCY_MS,
        workers=settings.sierra_api_client_pool_size,
        batch_size=settings.sierra_update_batch_size_limit,
        original_schedule_items_per_second=round(ORIGINAL_BATCH / ORIGINAL_INTERVAL_SECONDS, 2),
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
