"""Request dependencies: settings, a database session per request."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.db import get_engine, session_factory
from tarroitus.settings import Settings


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_db_engine(settings: SettingsDep) -> Engine:
    """The process-wide engine."""
    return get_engine(settings)


EngineDep = Annotated[Engine, Depends(get_db_engine)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back when it raises."""
    with session_factory(engine)() as session, session.begin():
        yield session


# scope="function": FastAPI ends the dependency, so commits, once the route has returned and before the
# response is sent; with the default scope the commit ran after the answer had left (a 201 for a print
# whose COMMIT then failed). A failed COMMIT raises into the error handlers instead: 503 or 500.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
