"""Benchmark: a full Sierra sync into PostgreSQL, 1M simulated items (`--quick`: 20,000), in items per second.

`python bench/sync_full.py [--items N] [--baseline-items N] [--quick]`. The Sierra simulator runs in its
own process (bench/sierra_process.py), PostgreSQL is a database of the benchmark's own on the embedded
server; every pass starts from an empty items table.

- value: the full pass as built (`sync_from_sierra`: keyset pages of 2,000 items over HTTP, their bibs,
  mapping, the next page read while the current one is stored, binary COPY straight into `items` for
  a page of new ids (else into a temporary table and one INSERT ... ON CONFLICT), the cursor saved per
  page), items per second.
- baseline: the same full pass with the bulk upsert replaced by a per-row ORM upsert
  (`session.execute(insert(Item).on_conflict_do_update(...), row)` once per row, the statement built once),
  against a simulator of BASELINE_ITEMS items (the same seed, so the same first items), items per second.

Two more result lines measure the stages of the pass on their own, over up to STORE_ROWS items read
from the simulator beforehand:

- store stage (`store_items_per_second`): the pages stored as the pass stores them into an empty table
  (`store_item_page`: binary COPY straight into `items`, one transaction per page of 2,000 that commits
  without waiting for the disk), items per second; baseline: the per-row ORM upsert over the baseline
  sample, its transactions committed the same way. Target: at least 50,000 items/s.
- reading (`map_items_per_second`): mapping the read pages (items with their bibs, signums) in one
  thread, items per second of mapping time; baseline: the rate at which the simulator's answers arrive
  (the wall time of the page and bib requests, our JSON decoding included). Target: mapping at least
  as fast as the answers arrive, so a single reader waits on Sierra, not on its own parsing.

Prints one JSON result line per figure (bench/common.py); `ratio` = value / baseline. Targets of the
whole pass: at least 50,000 items/s, and at least 10 times the baseline.
"""

import argparse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from common import bench_database, emit, stopwatch
from sierra_process import CLIENT_KEY, CLIENT_SECRET, sierra_simulator
from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tarroitus.deadlines import Deadline
from tarroitus.jobs.sierra_sync import SyncOptions, sync_from_sierra
from tarroitus.models import Item
from tarroitus.repositories.item_upserts import SYNC_COLUMNS, UpsertCounts, commit_without_flush
from tarroitus.services.sync import pages as sync_pages
from tarroitus.services.sync.item_mapping import first_bib_id, is_deleted, map_bib, map_item
from tarroitus.services.sync.pages import SYNC_ITEM_FIELDS, ItemPage, SyncCounts, store_item_page
from tarroitus.sierra import MAX_LIMIT, SierraClient

DATABASE = "tarroitus_bench_sync_full"
SIZES = {"full": (1_000_000, 5_000), "quick": (20_000, 2_000)}
STORE_ROWS = 100_000
TARGET_ITEMS_PER_SECOND = 50_000.0
TARGET_RATIO = 10.0
PAGE = MAX_LIMIT
OPTIONS = SyncOptions(batch_size=PAGE, lookback=timedelta(minutes=5), lease_seconds=7200)


def main() -> None:
    """Run both full passes and the store-stage comparison, print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int)
    parser.add_argument("--baseline-items", type=int)
    parser.add_argument("--quick", action="store_true", help="20,000 items, 2,000 in the baseline sample")
    args = parser.parse_args()
    items, baseline_items = SIZES["quick" if args.quick else "full"]
    items, baseline_items = args.items or items, args.baseline_items or baseline_items
    with bench_database(DATABASE) as engine:
        with (
            sierra_simulator(items) as simulator,
            SierraClient(simulator.base_url, CLIENT_KEY, CLIENT_SECRET) as client,
        ):
            with stopwatch() as bulk_pass:
                summary = full_pass(engine, client, expected=items)
            pages_read = fetch_pages(client, limit=STORE_ROWS)
            with stopwatch() as mapping:
                rows = map_pages(pages_read.pages)[:STORE_ROWS]
            store = store_stage(engine, rows, baseline_items)
        reset(engine)
        with (
            sierra_simulator(baseline_items) as sample,
            SierraClient(sample.base_url, CLIENT_KEY, CLIENT_SECRET) as client,
            per_row_sync_storage(),
            stopwatch() as naive_pass,
        ):
            full_pass(engine, client, expected=baseline_items)
    value = items / bulk_pass["seconds"]
    baseline = baseline_items / naive_pass["seconds"]
    emit(
        "sync_full",
        metric="items_per_second",
        unit="items/s",
        value=value,
        baseline=baseline,
        target=TARGET_ITEMS_PER_SECOND,
        ok=value >= TARGET_ITEMS_PER_SECOND and value / baseline >= TARGET_RATIO,
        target_ratio=TARGET_RATIO,
        items=items,
        seconds=round(bulk_pass["seconds"], 2),
        pages=summary["pages"],
        baseline_items=baseline_items,
        baseline_seconds=round(naive_pass["seconds"], 2),
        baseline_method="the same full pass with a per-row ORM upsert (statement built once), on a smaller simulator",
    )
    emit(
        "sync_full",
        metric="store_items_per_second",
        unit="items/s",
        value=store["bulk_rate"],
        baseline=store["naive_rate"],
        target=TARGET_ITEMS_PER_SECOND,
        items=len(rows),
        seconds=round(store["bulk_seconds"], 3),
        baseline_items=store["naive_items"],
        baseline_seconds=round(store["naive_seconds"], 3),
        baseline_method="the same pages stored with a per-row ORM upsert (statement built once), per transaction",
    )
    read_items = sum(len(entries) for entries, _ in pages_read.pages)
    map_rate = read_items / mapping["seconds"]
    answer_rate = read_items / pages_read.seconds
    emit(
        "sync_full",
        metric="map_items_per_second",
        unit="items/s",
        value=map_rate,
        baseline=answer_rate,
        target=answer_rate,
        items=read_items,
        seconds=round(mapping["seconds"], 3),
        baseline_seconds=round(pages_read.seconds, 3),
        baseline_method="the simulator's answers: wall time of the page and bib requests, JSON decoding included",
    )


def full_pass(engine: Engine, client: SierraClient, *, expected: int) -> dict[str, Any]:
    """One complete full pass from an empty table; it must read every item."""
    reset(engine)
    summary = sync_from_sierra(engine, client, options=OPTIONS, budget=Deadline.after(7200))
    if summary["outcome"] != "succeeded" or summary["items_read"] != expected:
        raise RuntimeError(f"the full pass did not complete: {summary}")
    return summary


def store_stage(engine: Engine, rows: list[dict[str, Any]], baseline_items: int) -> dict[str, float]:
    """Bulk upsert and per-row upsert timed on their own over mapped rows, each into an empty table."""
    reset(engine)
    counts = SyncCounts()
    with stopwatch() as bulk:
        for page in pages(rows):
            with Session(engine) as session, session.begin():
                item_page = ItemPage(len(page), page[-1]["item_record_id"], with_bib=page, without_bib=[], deletions=[])
                store_item_page(session, page=item_page, counts=counts)
    check_stored(engine, rows)
    reset(engine)
    sample = rows[:baseline_items]
    with stopwatch() as naive:
        for page in pages(sample):
            with Session(engine) as session, session.begin():
                commit_without_flush(session)
                per_row_upsert(session, rows=page)
    check_stored(engine, sample)
    return {
        "bulk_rate": len(rows) / bulk["seconds"],
        "bulk_seconds": bulk["seconds"],
        "naive_rate": len(sample) / naive["seconds"],
        "naive_seconds": naive["seconds"],
        "naive_items": len(sample),
    }


Page = tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class PagesRead:
    """Item pages with their bibs as the simulator answered them, and the wall time of those requests."""

    pages: list[Page]
    seconds: float


def fetch_pages(client: SierraClient, *, limit: int) -> PagesRead:
    """Pages of up to `limit` simulator items and their bibs, read the way the full pass reads them."""
    read: list[Page] = []
    next_id = 0
    with stopwatch() as requests:
        while sum(len(entries) for entries, _ in read) < limit:
            entries = client.list_items_raw(id_range_start=next_id, limit=PAGE, fields=SYNC_ITEM_FIELDS)["entries"]
            bib_ids = sorted({bib_id for entry in entries if (bib_id := first_bib_id(entry)) is not None})
            read.append((entries, client.list_bibs_raw(ids=bib_ids)["entries"] if bib_ids else []))
            if len(entries) < PAGE:
                break
            next_id = int(entries[-1]["id"]) + 1
    return PagesRead(read, requests["seconds"])


def map_pages(read: list[Page]) -> list[dict[str, Any]]:
    """The live items of the pages mapped to rows with their bibs, as the full pass maps them."""
    rows: list[dict[str, Any]] = []
    for entries, found in read:
        bibs = {int(bib["id"]): map_bib(bib) for bib in found}
        for entry in entries:
            if not is_deleted(entry):
                bib_id = first_bib_id(entry)
                rows.append(map_item(entry, bibs.get(bib_id) if bib_id is not None else None))
    return rows


def pages(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The rows in pages of PAGE."""
    for start in range(0, len(rows), PAGE):
        yield rows[start : start + PAGE]


_per_row_statements: dict[tuple[str, ...], Any] = {}


def per_row_upsert(
    session: Session, *, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] = SYNC_COLUMNS
) -> UpsertCounts:
    """Upsert one row at a time through the ORM (the statement for a column set is built once)."""
    key = tuple(columns)
    statement = _per_row_statements.get(key)
    if statement is None:
        insert_items = insert(Item)
        statement = _per_row_statements[key] = insert_items.on_conflict_do_update(
            index_elements=[Item.item_record_id],
            set_={column: insert_items.excluded[column] for column in key if column != "item_record_id"},
        )
    count = 0
    for row in rows:
        session.execute(statement, {column: row[column] for column in key})
        count += 1
    return UpsertCounts(received=count, distinct=count, inserted=count)


def per_row_sync_storage() -> AbstractContextManager[object]:
    """Inside the block the full pass stores its pages with `per_row_upsert`."""
    return patch.object(sync_pages, "upsert_items", per_row_upsert)


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


def reset(engine: Engine) -> None:
    """Empty the tables a sync writes."""
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE items, job_state, job_runs, sync_uploads CASCADE"))


if __name__ == "__main__":
    main()
