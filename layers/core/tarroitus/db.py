"""Engine and session factory: one engine per process, created lazily from the settings."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from tarroitus.settings import Settings

_engines: dict[tuple[str, int], Engine] = {}
_engines_lock = threading.Lock()


class Base(DeclarativeBase):
    """Declarative base of every ORM model."""


def create_db_engine(url: str, *, pool_size: int) -> Engine:
    """An engine for the psycopg 3 driver with a small pre-pinged pool.

    `prepare_threshold=None` disables server-side prepared statements, which RDS Proxy and
    PgBouncer in transaction mode cannot route.
    """
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"prepare_threshold": None},
    )


def get_engine(settings: Settings) -> Engine:
    """The process-wide engine for the database the settings name (embedded in local/test)."""
    from tarroitus.database_url import resolve_database_url

    key = (resolve_database_url(settings), settings.db_pool_size)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = create_db_engine(key[0], pool_size=key[1])
        return engine


def reset_engines() -> None:
    """Dispose of every cached engine (tests, and after the database restarted under a process)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to `engine` that keeps loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session
