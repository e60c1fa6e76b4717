"""Writeback throughput against a Sierra with 50 ms latency, and duplicate writes (must be 0).

`python bench/writeback.py [--quick]`. The Sierra simulator runs in its own process (as Sierra is a remote
server) with 50 ms added to every request; PostgreSQL is a database of the benchmark's own on the embedded server.

- value: items/s of the writeback as built (`write_back_queue` with the default settings: batches of 200,
  `SIERRA_UPDATE_CONCURRENCY` = 2 workers over one client that lets at most 2 requests through at a time),
  500 items (`--quick`: 200). Each item is a GET and a PUT, so 2 workers at 50 ms a request top out near
  20 items/s.
- baseline: the original design's loop measured in the same run on the same simulator: batches of 20,
  one item at a time, no concurrency (the same code with one worker and batches of 20), 100 items
  (`--quick`: 40). The original also waited 30 s between batches, i.e. at most 20/30 = 0.67 items/s:
  reported as `original_schedule_items_per_second`.
- `eight_workers_items_per_second`: the same writeback with 8 concurrent writes (the default before
  real servers were found to answer more parallel requests with more timeouts), same run, same items count.
  The simulator does not slow down under parallel load, so this is the most concurrency could buy.
- duplicates: PUTs the simulator received beyond one per item (every PUT succeeds here, no faults).

The target, 15 items/s, is 54,000 items an hour: far more than label stations print (a person handles each
book), so the queue keeps up with two requests at a time.

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

from tarroitus import keyset
from tarroitus.domain import WritebackStatus
from tarroitus.models import Item, WritebackEntry
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.sync.pages import entry_id
from tarroitus.services.writeback.queue import write_back_queue
from tarroitus.settings import Settings
from tarroitus.sierra import MAX_LIMIT, SierraClient

TARGET_ITEMS_PER_SECOND = 15.0
EIGHT_WORKERS = 8
LATENCY_MS = 50.0
SIMULATED_ITEMS = 4000
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
        ids = iter(live_item_ids(settings, (2 * items + baseline_items) * repeats))
        baseline_settings = settings.model_copy(
            update={"sierra_update_concurrency": 1, "sierra_update_batch_size_limit": ORIGINAL_BATCH}
        )
        eight_settings = settings.model_copy(update={"sierra_update_concurrency": EIGHT_WORKERS})
        baseline_runs: list[float] = []
        runs: list[float] = []
        eight_runs: list[float] = []
        for _ in range(repeats):
            baseline_runs.append(items_per_second(engine, baseline_settings, take(ids, baseline_items), owner="loop"))
            runs.append(items_per_second(engine, settings, take(ids, items), owner="writeback"))
            eight_runs.append(items_per_second(engine, eight_settings, take(ids, items), owner="eight"))
        puts = simulator.stats()["puts"]
        done = count_done(engine)
    written = (2 * items + baseline_items) * repeats
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
        workers=settings.sierra_update_concurrency,
        eight_workers_items_per_second=round(statistics.median(eight_runs), 2),
        eight_workers_runs=[round(value, 2) for value in eight_runs],
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
    """A client as the job builds it (`build_writeback_client`): at most one request at a time per worker."""
    client = SierraClient.from_settings(
        settings,
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        max_concurrent_requests=settings.sierra_update_concurrency,
    )
    try:
        yield client
    finally:
        client.close()


def live_item_ids(settings: Settings, count: int) -> list[int]:
    """The first `count` items the simulator has that are not deleted."""
    with sierra_client(settings) as client:
        pages = keyset.iter_pages(
            lambda after: client.list_items_raw(id_range_start=after + 1, deleted=False, fields="id")["entries"],
            after=-1,
            limit=MAX_LIMIT,
            key=entry_id,
        )
        ids = [entry_id(entry) for page in pages for entry in page.rows]
    ids = ids[:count]
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
