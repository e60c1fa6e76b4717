"""What the full and changes passes share: reading Sierra page by page within a budget, and storing a page.

Sierra is read outside database transactions; each page is then written in one short transaction
together with the sync state that records it, so a run that stops anywhere resumes from the last
stored page.
"""

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from sqlalchemy.orm import Session

from tarroitus import keyset
from tarroitus.deadlines import Budget
from tarroitus.keyset import KeysetPage
from tarroitus.repositories.item_upserts import (
    BIB_COLUMNS,
    SYNC_COLUMNS,
    commit_without_flush,
    mark_items_deleted,
    upsert_items,
)
from tarroitus.services.sync.item_mapping import deletion_of, first_bib_id, is_deleted, map_bib, map_item
from tarroitus.sierra import ITEM_SYNC_FIELDS, SierraClient

logger = Logger(child=True)

#: Item fields the sync reads: the sync set plus fixed fields, for the item type code (fixed field 61).
SYNC_ITEM_FIELDS = ITEM_SYNC_FIELDS + ",fixedFields"
#: Columns written for an item whose bib cannot be read: its stored bib columns stay as they are.
ITEM_ONLY_COLUMNS = tuple(column for column in SYNC_COLUMNS if column not in BIB_COLUMNS)
#: A page is expected to take this many times the slowest recent page (slack for Sierra's variance).
PAGE_TIME_SLACK = 1.5

Entry = Mapping[str, Any]


class BudgetExhaustedError(Exception):
    """The next page would not fit in the time budget; the pass stops here and resumes next run."""


@dataclass
class SyncCounts:
    """Counters of a run, stored on the run record and logged as progress."""

    pages: int = 0
    items_read: int = 0
    bibs_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    bib_items_updated: int = 0
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict[str, int]:
        """The counters (no timing), for the job run record."""
        return {name: value for name, value in asdict(self).items() if name != "started"}

    def items_per_second(self) -> float:
        """Items read per second since the run started."""
        elapsed = time.monotonic() - self.started
        return round(self.items_read / elapsed, 1) if elapsed > 0 else 0.0

    def log_progress(self, message: str, **extra: Any) -> None:
        """Log the counters, the rate and whatever position the caller adds (cursor, window)."""
        logger.info(message, extra={**self.as_dict(), "items_per_second": self.items_per_second(), **extra})


@dataclass
class PagePacer:
    """Guards each page with the budget, estimating a page's duration from the slowest of the last few."""

    budget: Budget
    clock: Callable[[], float] = time.monotonic
    recent: list[float] = field(default_factory=list)

    def next_page(self) -> float:
        """Raise BudgetExhaustedError when the next page would not fit; else the page's start time."""
        estimate = max(self.recent, default=0.0) * PAGE_TIME_SLACK
        if not self.budget.allows(estimate):
            raise BudgetExhaustedError
        return self.clock()

    def page_done(self, started: float) -> None:
        """Record the duration of the page that started at `started`."""
        self.recent = [*self.recent[-4:], self.clock() - started]

    def timed[T](self, step: Callable[[], T]) -> T:
        """Run one page's work inside the budget, recording how long it took."""
        started = self.next_page()
        result = step()
        self.page_done(started)
        return result


def for_each_page(
    pacer: PagePacer,
    fetch: Callable[[int], Sequence[Entry]],
    handle: Callable[[Sequence[Entry]], None],
    *,
    batch_size: int,
) -> None:
    """Fetch and handle pages of records by keyset (`id=[last+1,]`) until a short page, each inside the budget."""
    pages = keyset.iter_pages(lambda after: fetch(after + 1), after=-1, limit=batch_size, key=entry_id)
    more = True
    while more:
        more = pacer.timed(partial(_handle_next, pages, handle))


def entry_id(entry: Entry) -> int:
    """A Sierra record's id (Sierra sends it as a string)."""
    return int(entry["id"])


def _handle_next(pages: Iterator[KeysetPage[Entry]], handle: Callable[[Sequence[Entry]], None]) -> bool:
    """Fetch and handle the next page; whether another follows it."""
    page = next(pages)
    handle(page.rows)
    return page.next_after is not None


@dataclass(frozen=True)
class ItemPage:
    """A page of Sierra items read and mapped, ready to store: rows with and without a bib, deletions."""

    size: int
    last_id: int | None
    with_bib: list[dict[str, Any]]
    without_bib: list[dict[str, Any]]
    deletions: list[tuple[int, datetime | None]]


def read_item_page(client: SierraClient, entries: Sequence[Entry], counts: SyncCounts) -> ItemPage:
    """Look up the bibs of a page of items (one request per id batch) and map every item to its row."""
    bibs = fetch_bibs(client, entries, counts)
    with_bib: list[dict[str, Any]] = []
    without_bib: list[dict[str, Any]] = []
    deletions = []
    for entry in entries:
        if is_deleted(entry):
            deletions.append(deletion_of(entry))
            continue
        bib_id = first_bib_id(entry)
        bib = bibs.get(bib_id) if bib_id is not None else None
        (with_bib if bib is not None else without_bib).append(map_item(entry, bib))
    last_id = entry_id(entries[-1]) if entries else None
    return ItemPage(len(entries), last_id, with_bib, without_bib, deletions)


def fetch_bibs(client: SierraClient, entries: Sequence[Entry], counts: SyncCounts) -> dict[int, dict[str, Any]]:
    """The live bibs of a page of items, mapped to their columns (`map_bib`), by id."""
    bib_ids = sorted({bib_id for entry in entries if (bib_id := first_bib_id(entry)) is not None})
    if not bib_ids:
        return {}
    bibs = client.list_bibs_raw(ids=bib_ids)["entries"]
    counts.bibs_read += len(bibs)
    return {int(bib["id"]): map_bib(bib) for bib in bibs if not is_deleted(bib)}


def store_item_page(session: Session, *, page: ItemPage, counts: SyncCounts) -> None:
    """Upsert a mapped page (an item without a readable bib keeps its stored bib columns) and mark deletions.

    The page's transaction commits without waiting for the disk: a crash can lose only the last pages
    committed, together with the sync state recorded with them (the full pass's cursor in the same
    transaction, the changes pass's watermark in a later one that waits), so the next run reads them
    from Sierra again.
    """
    commit_without_flush(session)
    for rows, columns in ((page.with_bib, SYNC_COLUMNS), (page.without_bib, ITEM_ONLY_COLUMNS)):
        if rows:
            result = upsert_items(session, rows=rows, columns=columns)
            counts.inserted += result.inserted
            counts.updated += result.updated
            counts.unchanged += result.unchanged
    counts.deleted += mark_items_deleted(session, deletions=page.deletions)
    counts.items_read += page.size
