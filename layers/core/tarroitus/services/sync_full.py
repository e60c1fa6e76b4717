"""The full pass: every Sierra item by id (keyset), with its bib, upserted page by page.

The cursor (the last item id stored) is saved in the same transaction as each page, so a run that
stops for any reason (time budget, crash, timeout) resumes after the last stored page. When a short
page ends the pass, the sync switches to changes mode with the pass's start as the watermark: what
changed in Sierra while the pass ran is read again by the changes pass.
"""

from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy import Engine

from tarroitus.db import session_scope
from tarroitus.errors import ConflictError
from tarroitus.models import SyncMode
from tarroitus.services.sync_pages import (
    SYNC_ITEM_FIELDS,
    BudgetExhaustedError,
    Entry,
    PagePacer,
    SyncCounts,
    fetch_bibs,
    store_items,
)
from tarroitus.services.sync_state import begin_full_sync, complete_full_sync, current_mode, lock_sync_state
from tarroitus.sierra import SierraClient


def run_full_sync(
    engine: Engine,
    client: SierraClient,
    *,
    batch_size: int,
    pacer: PagePacer,
    counts: SyncCounts,
    now: Callable[[], datetime],
) -> bool:
    """Continue the full pass from its cursor; True when it completed, False when the budget ran out."""
    with session_scope(engine) as session:
        state = lock_sync_state(session)
        begin_full_sync(state, started_at=now())
        cursor = state.full_sync_cursor
    try:
        while True:
            cursor, finished = pacer.timed(partial(_sync_page, engine, client, cursor, batch_size, counts, now))
            counts.log_progress("Full sync page stored", mode="full", cursor=cursor)
            if finished:
                return True
    except BudgetExhaustedError:
        counts.log_progress("Full sync stopped inside the time budget; the next run resumes", cursor=cursor)
        return False


def _sync_page(
    engine: Engine, client: SierraClient, cursor: int, batch_size: int, counts: SyncCounts, now: Callable[[], datetime]
) -> tuple[int, bool]:
    page = client.list_items_raw(id_range_start=cursor + 1, limit=batch_size, fields=SYNC_ITEM_FIELDS)
    entries: list[Entry] = list(page["entries"])
    bibs = fetch_bibs(client, entries, counts)
    finished = len(entries) < batch_size
    with session_scope(engine) as session:
        state = lock_sync_state(session)
        if state.full_sync_cursor != cursor or current_mode(state) is not SyncMode.FULL:
            raise ConflictError("The sync state changed during the full pass (restarted or uploaded); stopping")
        store_items(session, entries=entries, bibs=bibs, counts=counts)
        if entries:
            state.full_sync_cursor = int(entries[-1]["id"])
        if finished:
            complete_full_sync(state, completed_at=now())
        counts.pages += 1
        return state.full_sync_cursor, finished
