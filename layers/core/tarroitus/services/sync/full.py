"""The full pass: every Sierra item by id (keyset), with its bib, upserted page by page.

The cursor (the last item id stored) is saved in the same transaction as each page, so a run that
stops for any reason (time budget, crash, timeout) resumes after the last stored page. When a short
page ends the pass, the sync switches to changes mode with the pass's start as the watermark: what
changed in Sierra while the pass ran is read again by the changes pass.
"""

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import partial

from aws_lambda_powertools import Tracer
from sqlalchemy import Engine

from tarroitus import keyset
from tarroitus.domain import SyncMode
from tarroitus.errors import ConflictError
from tarroitus.invocation_context import invocation_executor
from tarroitus.keyset import KeysetPage
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.sync.pages import (
    SYNC_ITEM_FIELDS,
    BudgetExhaustedError,
    Entry,
    ItemPage,
    PagePacer,
    SyncCounts,
    entry_id,
    read_item_page,
    store_item_page,
)
from tarroitus.services.sync.state import begin_full_sync, complete_full_sync, current_mode, lock_sync_state
from tarroitus.sierra import SierraClient

tracer = Tracer(auto_patch=False)


@tracer.capture_method(capture_response=False)
def run_full_sync(
    engine: Engine,
    client: SierraClient,
    *,
    batch_size: int,
    pacer: PagePacer,
    counts: SyncCounts,
    now: Callable[[], datetime],
) -> bool:
    """Continue the full pass from its cursor; True when it completed, False when the budget ran out.

    The next page is read from Sierra (and mapped) in a second thread while the current one is stored,
    so the database and Sierra work at the same time; a page read but not stored is simply read again.
    """
    with session_scope(engine) as session:
        state = lock_sync_state(session)
        begin_full_sync(state, started_at=now())
        cursor = state.full_sync_cursor
    pages = keyset.iter_pages(partial(_list_items, client, batch_size), after=cursor, limit=batch_size, key=entry_id)
    with invocation_executor(max_workers=1, thread_name_prefix="sierra-read-ahead") as reader:
        pending = reader.submit(_read_page, client, pages, counts)
        try:
            while True:
                started = pacer.next_page()
                page, finished = pending.result()
                if not finished:
                    pending = reader.submit(_read_page, client, pages, counts)
                cursor = _store_page(engine, page, cursor=cursor, finished=finished, counts=counts, now=now)
                pacer.page_done(started)
                counts.log_progress("Full sync page stored", mode="full", cursor=cursor)
                if finished:
                    return True
        except BudgetExhaustedError:
            pending.cancel()
            counts.log_progress("Full sync stopped inside the time budget; the next run resumes", cursor=cursor)
            return False


def _list_items(client: SierraClient, batch_size: int, after_id: int) -> Sequence[Entry]:
    return client.list_items_raw(id_range_start=after_id + 1, limit=batch_size, fields=SYNC_ITEM_FIELDS)["entries"]


def _read_page(client: SierraClient, pages: Iterator[KeysetPage[Entry]], counts: SyncCounts) -> tuple[ItemPage, bool]:
    """The next page of items, mapped, and whether it is the last."""
    page = next(pages)
    return read_item_page(client, page.rows, counts), page.next_after is None


def _store_page(
    engine: Engine, page: ItemPage, *, cursor: int, finished: bool, counts: SyncCounts, now: Callable[[], datetime]
) -> int:
    with session_scope(engine) as session:
        state = lock_sync_state(session)
        if state.full_sync_cursor != cursor or current_mode(state) is not SyncMode.FULL:
            raise ConflictError("The sync state changed during the full pass (restarted or uploaded); stopping")
        store_item_page(session, page=page, counts=counts)
        if page.last_id is not None:
            state.full_sync_cursor = page.last_id
        if finished:
            complete_full_sync(state, completed_at=now())
        counts.pages += 1
        return state.full_sync_cursor
