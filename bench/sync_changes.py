"""Benchmark: a changes sync after 1% of the items were edited in Sierra, at 1M items (`--quick`: 20,000).

`python bench/sync_changes.py [--items N] [--quick]`. The Sierra simulator runs in its own process
(bench/sierra_process.py, date indexes built before serving, as Sierra's database has them), PostgreSQL
is a database of the benchmark's own on the embedded server.

1. A full sync stores every item (not part of the result, reported as `full_sync_seconds`).
2. Staff edit 1% of the items in Sierra: every 100th item moves to another location (new updatedDate).
3. value: the changes pass (`sync_from_sierra` in changes mode: updatedDate windows from the watermark,
   the edited items re-read with their bibs and upserted), in seconds. It must store every edit.
4. baseline: what a design without a changes pass needs to pick the edits up: a second full sync of the
   same items, in the same run (`mode=FULL`), in seconds.

Prints one JSON result line (bench/common.py): `ratio` = baseline / value. Target: the changes pass fits
in one sync interval (SYNC_INTERVAL_SECONDS, 300 s by default), so runs never queue up behind each other.
"""

import argparse
from datetime import timedelta
from typing import Any

from common import bench_database, emit, stopwatch
from sierra_process import CLIENT_KEY, CLIENT_SECRET, EDITED_LOCATION, sierra_simulator
from sqlalchemy import Engine, text

from tarroitus.deadlines import Deadline
from tarroitus.domain import SyncMode
from tarroitus.jobs.sierra_sync import SyncOptions, sync_from_sierra
from tarroitus.settings import Settings
from tarroitus.sierra import MAX_LIMIT, SierraClient

DATABASE = "tarroitus_bench_sync_changes"
SIZES = {"full": 1_000_000, "quick": 20_000}
EDIT_EVERY = 100
OPTIONS = SyncOptions(batch_size=MAX_LIMIT, lookback=timedelta(minutes=5), lease_seconds=7200)


def main() -> None:
    """Full sync, edit 1%, time the changes pass and a second full pass, print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int)
    parser.add_argument("--quick", action="store_true", help="20,000 items instead of 1M")
    args = parser.parse_args()
    items = args.items or SIZES["quick" if args.quick else "full"]
    target = float(Settings().sync_interval_seconds)
    with (
        bench_database(DATABASE) as engine,
        sierra_simulator(items, warm=True) as simulator,
        SierraClient(simulator.base_url, CLIENT_KEY, CLIENT_SECRET) as client,
    ):
        with stopwatch() as first:
            full = sync(engine, client, mode=None, expected="full")
        edited = simulator.edit_items(every=EDIT_EVERY)
        with stopwatch() as changes_pass:
            changes = sync(engine, client, mode=None, expected="changes")
        stored = relocated(engine)
        if stored != len(edited):
            raise RuntimeError(f"the changes pass stored {stored} of {len(edited)} edits: {changes}")
        with stopwatch() as second:
            again = sync(engine, client, mode=SyncMode.FULL, expected="full")
    emit(
        "sync_changes",
        metric="seconds",
        unit="s",
        value=changes_pass["seconds"],
        baseline=second["seconds"],
        target=target,
        higher_is_better=False,
        items=items,
        edited_items=len(edited),
        changes_items_read=changes["items_read"],
        changes_updated=changes["updated"],
        full_sync_seconds=round(first["seconds"], 2),
        full_items_read=full["items_read"],
        baseline_items_read=again["items_read"],
        baseline_method="a second full sync of the same items in the same run (what a design without changes needs)",
    )


def sync(engine: Engine, client: SierraClient, *, mode: SyncMode | None, expected: str) -> dict[str, Any]:
    """One complete sync run; it must run the `expected` pass and succeed."""
    summary = sync_from_sierra(engine, client, options=OPTIONS, budget=Deadline.after(7200), mode=mode)
    if (summary.get("mode"), summary["outcome"]) != (expected, "succeeded"):
        raise RuntimeError(f"the {expected} pass did not complete: {summary}")
    return summary


def relocated(engine: Engine) -> int:
    """Items stored with the location the edits gave them."""
    with engine.connect() as connection:
        count: int = connection.execute(
            text("SELECT count(*) FROM items WHERE location_code = :code"), {"code": EDITED_LOCATION["code"]}
        ).scalar_one()
    return count


if __name__ == "__main__":
    main()
