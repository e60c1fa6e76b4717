"""Which pass a sync run makes, and the pass itself: the full pass until it completes, then changes passes.

A pass stops before a page that would not fit in its budget; the next run carries on from the cursor or
the watermark the pass stored.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger
from sqlalchemy import Engine

from tarroitus.deadlines import Budget
from tarroitus.domain import SyncMode
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.sync.changes import run_changes_sync
from tarroitus.services.sync.full import run_full_sync
from tarroitus.services.sync.pages import PagePacer, SyncCounts
from tarroitus.services.sync.state import current_mode, lock_sync_state, restart_full_sync
from tarroitus.sierra import SierraClient

logger = Logger(child=True)


def run_pass(
    engine: Engine,
    client: SierraClient,
    *,
    mode: SyncMode,
    batch_size: int,
    lookback: timedelta,
    budget: Budget,
    counts: SyncCounts,
    now: Callable[[], datetime],
) -> bool:
    """Run the `mode` pass within `budget`, adding to `counts`; True when it completed (False: stopped early)."""
    pacer = PagePacer(budget)
    if mode is SyncMode.FULL:
        return run_full_sync(engine, client, batch_size=batch_size, pacer=pacer, counts=counts, now=now)
    return run_changes_sync(
        engine, client, batch_size=batch_size, lookback=lookback, pacer=pacer, counts=counts, now=now
    )


def choose_mode(engine: Engine, *, requested: SyncMode | None) -> SyncMode:
    """The pass to run: the state's, except that a requested full pass restarts one in changes mode."""
    with session_scope(engine) as session:
        state = lock_sync_state(session)
        mode = current_mode(state)
        if requested is SyncMode.FULL and mode is SyncMode.CHANGES:
            restart_full_sync(state)
            return SyncMode.FULL
        if requested is SyncMode.CHANGES and mode is SyncMode.FULL:
            logger.warning("A changes pass was asked for, but the full pass has not completed; continuing it")
        return mode
