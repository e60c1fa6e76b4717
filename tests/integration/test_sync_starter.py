"""The API starts a sync run through the starter it was built with, never by importing the sync job itself."""

from collections.abc import Callable
from typing import Any, Literal

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.domain import ClientRole, SyncMode
from tarroitus.services.clients import register_client
from tarroitus.settings import Settings


class RecordingStarter:
    """A sync starter that records what it was asked for and answers where it "started" the run."""

    def __init__(self, target: Literal["lambda", "in_process"]) -> None:
        self.target = target
        self.calls: list[tuple[Settings, SyncMode | None]] = []

    def __call__(
        self, settings: Settings, *, mode: SyncMode | None, schedule: Callable[..., Any]
    ) -> Literal["lambda", "in_process"]:
        assert callable(schedule)
        self.calls.append((settings, mode))
        return self.target


def test_sync_run_endpoint_hands_the_run_to_the_apps_starter(committed_db: Engine, settings: Settings) -> None:
    # Given an app built with a starter of its own
    starter = RecordingStarter("lambda")
    with Session(committed_db) as session, session.begin():
        issued = register_client(
            session, name="admin", role=ClientRole.ADMIN, pepper=settings.api_key_pepper.get_secret_value()
        )
    app = create_app(settings, sync_starter=starter)
    # When an admin asks for a full pass
    with TestClient(app, headers={"X-API-Key": issued.api_key}) as client:
        response = client.post("/api/v1/sync/run", json={"mode": "full"})
    # Then the starter got the request, and the answer says where it went
    assert (response.status_code, response.json()) == (202, {"mode": "full", "target": "lambda"})
    assert starter.calls == [(settings, SyncMode.FULL)]
