"""Sierra simulator fixtures: the simulator app served by uvicorn in a thread on 127.0.0.1.

Register them from `tests/conftest.py` with `pytest_plugins = ["tests.sierra_fixtures"]` (or import
the fixtures there). Fixtures:

- `sierra_simulator`: a simulator with 2000 seeded items, reset to that state for each test (one
  server for the run: `sierra_simulator_session`).
- `sierra_simulator_factory`: call with `SimulatorConfig` keywords to start more (all stopped at the end).
- `sierra_client`: a `SierraClient` on `sierra_simulator` that records backoff sleeps instead of sleeping.

`run_simulator(...)` is the same thing as a context manager, for session-scoped fixtures and benchmarks.
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sierra_simulator import API_PREFIX, FaultInjector, SierraStore, SimulatorConfig, create_simulator_app

from tarroitus.sierra import SierraClient

DEFAULT_TEST_ITEMS = 2000


@dataclass
class RecordedSleeps:
    """A stand-in for `time.sleep` that records the delays it was asked for."""

    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@dataclass
class RunningSimulator:
    """A simulator being served; `base_url` is the API root (`.../iii/sierra-api/v6`)."""

    app: FastAPI
    url: str
    config: SimulatorConfig
    clients: list[SierraClient] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """The Sierra API base URL, as `SIERRA_API_ENDPOINT` would hold it."""
        return self.url + API_PREFIX

    @property
    def store(self) -> SierraStore:
        """The simulator's records (test helpers: `edit_item`, `delete_item`, `edit_bib`, `put_log`...)."""
        store: SierraStore = self.app.state.simulator.store
        return store

    @property
    def faults(self) -> FaultInjector:
        """The fault injector (same as `POST /_simulator/faults`)."""
        injector: FaultInjector = self.app.state.simulator.faults
        return injector

    def set_faults(self, **changes: Any) -> None:
        """Change fault settings (FaultConfig fields, `expire_tokens=True`, `reset=True`)."""
        self.faults.update(changes)

    def stats(self) -> dict[str, Any]:
        """What `GET /_simulator/stats` would answer."""
        stats: dict[str, Any] = self.app.state.simulator.snapshot()
        return stats

    def client(self, **overrides: Any) -> SierraClient:
        """A `SierraClient` with this simulator's credentials (closed when the simulator stops).

        Defaults suit tests: 3 retries, a 5 s timeout, and a sleep that records instead of sleeping.
        """
        options: dict[str, Any] = {
            "pool_size": 4,
            "timeout_seconds": 5.0,
            "retries": 3,
            "backoff_base_seconds": 0.01,
            "sleep": RecordedSleeps(),
        }
        options.update(overrides)
        key = options.pop("client_key", self.config.client_key)
        secret = options.pop("client_secret", self.config.client_secret)
        client = SierraClient(self.base_url, key, secret, **options)
        self.clients.append(client)
        return client

    def reset(self) -> None:
        """Back to the seeded state: no edits, no PUT log, configured faults, no valid tokens, zero stats."""
        for client in self.clients:
            client.close()
        self.clients.clear()
        self.app.state.simulator.reset()

    def raw_token(self) -> str:
        """A fresh access token, for tests that talk HTTP to the simulator directly."""
        response = httpx.post(
            self.base_url + "/token",
            auth=(self.config.client_key, self.config.client_secret),
            data={"grant_type": "client_credentials"},
            timeout=5,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


class _ServerThread:
    def __init__(self, app: FastAPI) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"sierra-simulator-{self.port}",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Sierra simulator did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@contextmanager
def run_simulator(config: SimulatorConfig | None = None, **config_fields: Any) -> Iterator[RunningSimulator]:
    """Serve a simulator on a free 127.0.0.1 port for the duration of the block."""
    if config is None:
        config_fields.setdefault("item_count", DEFAULT_TEST_ITEMS)
        config = SimulatorConfig(**config_fields)
    app = create_simulator_app(config)
    server = _ServerThread(app)
    server.start()
    running = RunningSimulator(app=app, url=f"http://127.0.0.1:{server.port}", config=config)
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.stop()


@pytest.fixture
def sierra_simulator_factory() -> Iterator[Callable[..., RunningSimulator]]:
    """Start simulators with `SimulatorConfig` keywords; all are stopped after the test."""
    stack: list[Any] = []

    def start(**config_fields: Any) -> RunningSimulator:
        manager = run_simulator(**config_fields)
        running = manager.__enter__()
        stack.append(manager)
        return running

    yield start
    while stack:
        stack.pop().__exit__(None, None, None)


@pytest.fixture(scope="session")
def sierra_simulator_session() -> Iterator[RunningSimulator]:
    """One simulator (DEFAULT_TEST_ITEMS items, seed 1) served for the whole run."""
    with run_simulator() as running:
        yield running


@pytest.fixture
def sierra_simulator(sierra_simulator_session: RunningSimulator) -> RunningSimulator:
    """The session's simulator, reset to its seeded state for this test (see `RunningSimulator.reset`)."""
    sierra_simulator_session.reset()
    return sierra_simulator_session


@pytest.fixture
def sierra_client(sierra_simulator: RunningSimulator) -> SierraClient:
    """A client on `sierra_simulator`; its `sleep` is a `RecordedSleeps` (see `RunningSimulator.client`)."""
    return sierra_simulator.client()
