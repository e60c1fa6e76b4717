"""Engines: one per process and database settings, created lazily; the declarative base; autocommit reads."""

import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry

from tarroitus.settings import Settings

if TYPE_CHECKING:
    import psycopg

#: A function giving the password for a new connection; `refresh=True` after the database refused the last one.
PasswordSource = Callable[..., str]

_engines: dict[tuple[object, ...], Engine] = {}
_engines_lock = threading.Lock()


class Base(DeclarativeBase):
    """Declarative base of every ORM model."""


def create_db_engine(
    url: str | URL, *, pool_size: int, pre_ping: bool = True, password: PasswordSource | None = None
) -> Engine:
    """An engine for the psycopg 3 driver with a small pool.

    `prepare_threshold=None` disables server-side prepared statements, which RDS Proxy and
    PgBouncer in transaction mode cannot route. `pre_ping` tests each connection with a round trip
    when it leaves the pool; latency-bound readers go without and retry once on a dead connection
    instead (`read`). `password`, when given, supplies the password of every new connection.
    """
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        connect_args={"prepare_threshold": None},
    )
    if password is not None:
        _supply_password(engine, password)
    return engine


def _supply_password(engine: Engine, password: PasswordSource) -> None:
    """Connect with `password()`; when the server refuses it, ask for a fresh one and try once more."""

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: dict[str, Any]) -> Any:
        cparams["password"] = password()
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError as exc:
            # libpq reports no SQLSTATE for a refused login, so any failure after a password was sent
            # counts: the cost of a needless refresh is one secret read.
            if not getattr(getattr(exc, "pgconn", None), "used_password", False):
                raise
        cparams["password"] = password(refresh=True)
        return dialect.connect(*cargs, **cparams)


def get_engine(settings: Settings, *, pre_ping: bool = True) -> Engine:
    """The process-wide engine for the database the settings name (embedded in local/test).

    Keyed on the settings, so a password kept in a secret is read when a connection is opened, not
    on every call.
    """
    from tarroitus.database_url import database_password, has_password_source, resolve_database_url

    key = (
        settings.database_url,
        settings.db_host,
        settings.db_port,
        settings.db_user,
        settings.db_name,
        settings.db_password,
        settings.db_password_secret_arn,
        settings.embedded_db_dir,
        settings.db_pool_size,
        settings.aws_endpoint_url,
        settings.aws_region,
        pre_ping,
    )
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            password = partial(database_password, settings) if has_password_source(settings) else None
            engine = _engines[key] = create_db_engine(
                resolve_database_url(settings), pool_size=settings.db_pool_size, pre_ping=pre_ping, password=password
            )
        return engine


def reset_engines() -> None:
    """Dispose of every cached engine (tests, and after the database restarted under a process)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def read[T](engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run `work` on a pooled connection in autocommit: no BEGIN, no COMMIT, one round trip a statement.

    A connection found dead (the server restarted, a failover) is discarded with the pool's other
    connections and `work` runs once more on a new one, so the caller sees no error. Only for work
    that writes nothing.
    """
    try:
        return _read_once(engine, work)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    return _read_once(engine, work)


def _read_once[T](engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return work(connection)


def fetch_rows(connection: Connection, sql: str, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql` run on the driver's own cursor: values as psycopg gives them, no result processing.

    For hot statements whose ~30 columns SQLAlchemy's result set-up would cost more than the query.
    Driver errors leave as SQLAlchemy's (`OperationalError`, `DataError`...), a dropped connection
    invalidated, exactly as `Connection.execute` would raise them.
    """
    dialect = connection.dialect
    driver = cast("psycopg.Connection[tuple[Any, ...]]", connection.connection.driver_connection)
    try:
        with driver.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchall()
    except dialect.loaded_dbapi.Error as exc:
        disconnected = dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)
        if disconnected:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql, parameters, exc, dialect.loaded_dbapi.Error, connection_invalidated=disconnected, dialect=dialect
        ) from exc
