"""Small helpers for API tests: key headers, error-body assertions, the app on the test's session."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tarroitus.api.deps import Reader, get_reader, get_session


def key_header(api_key: str) -> dict[str, str]:
    """The /api/v1 key header."""
    return {"X-API-Key": api_key}


def assert_api_error(response: httpx.Response, status_code: int, code: str) -> dict[str, Any]:
    """Assert an /api/v1 error response's status and code; return its error object."""
    assert response.status_code == status_code, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    return error


def share_session(app: FastAPI, db_session: Session) -> FastAPI:
    """Make every request of `app` (its sessions and its single-statement reads) run in a savepoint of `db_session`.

    The test's data is then visible to the routes and rolled back with the test.
    """

    def session_in_savepoint() -> Iterator[Session]:
        with db_session.begin_nested():
            yield db_session

    def read_in_savepoint[T](work: Callable[[Connection], T], /) -> T:
        with db_session.begin_nested():
            return work(db_session.connection())

    def shared_reader() -> Reader:
        return read_in_savepoint

    app.dependency_overrides[get_session] = session_in_savepoint
    app.dependency_overrides[get_reader] = shared_reader
    return app
