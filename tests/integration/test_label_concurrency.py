"""Concurrent prints, each in its own transaction: counts add up and an Idempotency-Key records once."""

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func, select

from tarroitus.domain import ClientRole
from tarroitus.models import Client, Item, LabelEvent
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.labels.prints import PrintedLabel, record_print
from tests.factories import make_client, make_item

THREADS = 4


def seed(engine: Engine) -> tuple[int, Client]:
    with session_scope(engine) as session:
        station, _ = make_client(session, role=ClientRole.PRINTER)
        return make_item(session).item_record_id, station


def print_concurrently(engine: Engine, item_id: int, station: Client, key: str | None) -> list[PrintedLabel]:
    barrier = threading.Barrier(THREADS)

    def one_print(_: int) -> PrintedLabel:
        barrier.wait(timeout=10)
        with session_scope(engine) as session:
            return record_print(session, item_id=item_id, client=station, idempotency_key=key)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one_print, range(THREADS)))


def test_concurrent_prints_are_all_counted(committed_db: Engine) -> None:
    # Given
    item_id, station = seed(committed_db)
    # When
    printed = print_concurrently(committed_db, item_id, station, key=None)
    # Then
    assert len({label.id for label in printed}) == THREADS
    with session_scope(committed_db) as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert item.print_count == THREADS


def test_concurrent_prints_with_one_idempotency_key_record_once(committed_db: Engine) -> None:
    # Given
    item_id, station = seed(committed_db)
    # When
    printed = print_concurrently(committed_db, item_id, station, key="double-click")
    # Then
    assert len({label.id for label in printed}) == 1
    assert sum(not label.replayed for label in printed) == 1
    with session_scope(committed_db) as session:
        events = session.scalar(
            select(func.count()).select_from(LabelEvent).where(LabelEvent.item_record_id == item_id)
        )
        item = session.get(Item, item_id)
        assert item is not None
        assert (events, item.print_count) == (1, 1)
