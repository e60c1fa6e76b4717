"""The full pass: every Sierra item by id (keyset), with its bib, upserted page by page.

The cursor (the last item id stored) is saved in the same transaction as each page, so a run that
stops for any reason (time budget, crash, timeout) resumes after the last stored page. When a short
page ends the pass, the sync switches to changes mode with the pass's start as the watermark: what
changed in Sierra while the pass ran is read again by the changes pass.
"""

from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools import Tracer
from sqlalchemy import Engine

from tarroitus.domain import SyncMode
from tarroitus.errors import ConflictError
from tarroitus.invocation_context import invocation_executor
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.sync.pages import (
    SYNC_ITEM_FIELDS,
    BudgetExhaustedError,
    ItemPage,
    PagePacer,
    SyncCounts,
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
    with invocation_executor(max_workers=1, thread_name_prefix="sierra-read-ahead") as reader:
        pending = reader.submit(_read_page, client, cursor, batch_size, counts)
        try:
            while True:
                started = pacer.next_page()
                page = pending.result()
                finished = page.size < batch_size
                if not finished and page.last_id is not None:
                    pending = reader.submit(_read_page, client, page.last_id, batch_size, counts)
                cursor = _store_page(engine, page, cursor=cursor, finished=finished, counts=counts, now=now)
                pacer.page_done(started)
                counts.log_progress("Full sync page stored", mode="full", cursor=cursor)
                if finished:
                    return True
        except BudgetExhaustedError:
            pending.cancel()
            counts.log_progress("Full sync stopped inside the time budget; the next run resumes", cursor=cursor)
            return False


def _read_page(client: SierraClient, after_id: int, batch_size: int, counts: SyncCounts) -> ItemPage:
    page = client.list_items_raw(id_range_start=after_id + 1, limit=batch_size, fields=SYNC_ITEM_FIELDS)
    return read_item_page(client, page["entries"], counts)


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
