"""The changes pass: what changed in Sierra since the watermark, read in overlapping windows.

Each run reads from the watermark minus the lookback up to the run's start, in windows of at most
CHANGES_WINDOW. For each window, in this order: items whose `deletedDate` falls on its days (flagged
deleted; their rows and label history stay as they were), items whose `updatedDate` falls in it
(re-read with their bibs), and bibs whose `updatedDate` falls in it (their label columns re-computed
on all their live items: a bib edit does not touch its items' updatedDate). The watermark moves to a window's end
once the whole window is stored, so a run that stops re-reads at most one window next time;
re-reading is harmless because unchanged rows are not written.

The sync never writes the writeback queue: the project's own writebacks come back here as item
changes (their call number) and update the item row, but nothing is queued again.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial

from aws_lambda_powertools import Tracer
from sqlalchemy import Engine

from tarroitus.domain import SyncMode
from tarroitus.errors import ConflictError
from tarroitus.repositories.item_upserts import mark_items_deleted, update_bib_columns
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.sync.item_mapping import deletion_of, is_deleted, map_bib
from tarroitus.services.sync.pages import (
    SYNC_ITEM_FIELDS,
    BudgetExhaustedError,
    Entry,
    PagePacer,
    SyncCounts,
    for_each_page,
    read_item_page,
    store_item_page,
)
from tarroitus.services.sync.state import current_mode, lock_sync_state
from tarroitus.sierra import SierraClient

tracer = Tracer(auto_patch=False)

#: The longest `updatedDate` range read at once; the watermark advances after each.
CHANGES_WINDOW = timedelta(days=1)
#: Fields of a deleted item worth asking for.
DELETED_ITEM_FIELDS = "id,deletedDate,deleted"

Window = tuple[datetime, datetime]


def change_windows(since: datetime, until: datetime, *, lookback: timedelta, window: timedelta) -> list[Window]:
    """Consecutive windows from `since - lookback` to `until`, each at most `window` long."""
    windows: list[Window] = []
    start = since - lookback
    while start < until:
        end = min(start + window, until)
        windows.append((start, end))
        start = end
    return windows


@tracer.capture_method(capture_response=False)
def run_changes_sync(
    engine: Engine,
    client: SierraClient,
    *,
    batch_size: int,
    lookback: timedelta,
    pacer: PagePacer,
    counts: SyncCounts,
    now: Callable[[], datetime],
) -> bool:
    """Read every window up to now; True when all were stored, False when the budget ran out first."""
    with session_scope(engine) as session:
        since = lock_sync_state(session).changes_since
    if since is None:
        raise ConflictError("The changes pass needs a watermark; the full pass has not completed")
    windows = change_windows(since, now(), lookback=lookback, window=CHANGES_WINDOW)
    try:
        for window in windows:
            _sync_window(engine, client, window, batch_size=batch_size, pacer=pacer, counts=counts)
            _advance_watermark(engine, window[1])
            counts.log_progress("Changes window stored", mode="changes", window_end=window[1].isoformat())
    except BudgetExhaustedError:
        counts.log_progress("Changes sync stopped inside the time budget; the next run resumes", mode="changes")
        return False
    return True


def _sync_window(
    engine: Engine, client: SierraClient, window: Window, *, batch_size: int, pacer: PagePacer, counts: SyncCounts
) -> None:
    def changed_items(next_id: int) -> Sequence[Entry]:
        page = client.list_items_raw(
            id_range_start=next_id, updated_between=window, limit=batch_size, fields=SYNC_ITEM_FIELDS
        )
        return page["entries"]

    def changed_bibs(next_id: int) -> Sequence[Entry]:
        return client.list_bibs_raw(id_range_start=next_id, updated_between=window, limit=batch_size)["entries"]

    def deleted_items(next_id: int) -> Sequence[Entry]:
        page = client.list_items_raw(
            id_range_start=next_id, deleted_between=window, limit=batch_size, fields=DELETED_ITEM_FIELDS
        )
        return page["entries"]

    for_each_page(pacer, deleted_items, partial(_store_deletions, engine, counts), batch_size=batch_size)
    for_each_page(pacer, changed_items, partial(_store_items, engine, client, counts), batch_size=batch_size)
    for_each_page(pacer, changed_bibs, partial(_store_bibs, engine, counts), batch_size=batch_size)


def _store_items(engine: Engine, client: SierraClient, counts: SyncCounts, entries: Sequence[Entry]) -> None:
    page = read_item_page(client, entries, counts)
    with session_scope(engine) as session:
        store_item_page(session, page=page, counts=counts)
    counts.pages += 1


def _store_bibs(engine: Engine, counts: SyncCounts, entries: Sequence[Entry]) -> None:
    live = [map_bib(bib) for bib in entries if not is_deleted(bib)]
    with session_scope(engine) as session:
        counts.bib_items_updated += update_bib_columns(session, bibs=live)
    counts.bibs_read += len(entries)
    counts.pages += 1


def _store_deletions(engine: Engine, counts: SyncCounts, entries: Sequence[Entry]) -> None:
    deletions = [deletion_of(entry) for entry in entries if is_deleted(entry)]
    with session_scope(engine) as session:
        counts.deleted += mark_items_deleted(session, deletions=deletions)
    counts.pages += 1


def _advance_watermark(engine: Engine, window_end: datetime) -> None:
    with session_scope(engine) as session:
        state = lock_sync_state(session)
        if current_mode(state) is not SyncMode.CHANGES:
            raise ConflictError("The sync was switched to a full pass during the changes pass; stopping")
        if state.changes_since is None or state.changes_since < window_end:
            state.changes_since = window_end
