"""Request dependencies: settings, a database session per request, a reader for single-statement reads, and
the sync starter the app was built with."""

from collections.abc import Callable, Iterator
from functools import partial
from typing import Annotated, Any, Literal, Protocol

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from tarroitus.db import get_engine, read
from tarroitus.domain import SyncMode
from tarroitus.repositories.transactions import session_factory
from tarroitus.settings import Settings


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_db_engine(settings: SettingsDep) -> Engine:
    """The process-wide engine."""
    return get_engine(settings, pre_ping=False)


EngineDep = Annotated[Engine, Depends(get_db_engine)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back when it raises."""
    with session_factory(engine)() as session, session.begin():
        yield session


# scope="function": FastAPI ends the dependency, so commits, once the route has returned and before the
# response is sent; with the default scope the commit ran after the answer had left (a 201 for a print
# whose COMMIT then failed). A failed COMMIT raises into the error handlers instead: 503 or 500.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


class Reader(Protocol):
    """Runs a function that only reads on a connection of its own: no transaction, retried once on a dead connection."""

    def __call__[T](self, work: Callable[[Connection], T], /) -> T: ...


async def get_reader(settings: SettingsDep) -> Reader:
    """A reader on the process-wide engine (`tarroitus.db.read`)."""
    return partial(read, get_engine(settings, pre_ping=False))


ReaderDep = Annotated[Reader, Depends(get_reader)]


class SyncStarter(Protocol):
    """Starts a sync run now (in AWS by invoking the sync Lambda, locally by `schedule`-ing it); where it went."""

    def __call__(
        self, settings: Settings, *, mode: SyncMode | None, schedule: Callable[..., Any]
    ) -> Literal["lambda", "in_process"]: ...


async def get_sync_starter(request: Request) -> SyncStarter:
    """The sync starter the app was created with (`create_app(sync_starter=...)`)."""
    starter: SyncStarter = request.app.state.sync_starter
    return starter


SyncStarterDep = Annotated[SyncStarter, Depends(get_sync_starter)]
