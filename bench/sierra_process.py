"""The Sierra simulator in a process of its own, as Sierra is a remote server, for the benchmarks.

`with sierra_simulator(items, latency_ms=...) as simulator:` serves a seeded simulator on a free port of
127.0.0.1 and stops it after the block; `simulator.base_url` is the API root. Run as a script, this module
is that server: the simulator app plus one benchmark-only route, `POST /_bench/edit-items`, which edits
every n-th live item in the store as staff would in Sierra (`SierraStore.edit_item`: a new location and
a new updatedDate) and answers how many it edited.
"""

import argparse
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CLIENT_KEY = "bench-key"
CLIENT_SECRET = "bench-secret"
#: Where `edit_items` moves the edited items.
EDITED_LOCATION = {"code": "h99bb", "name": "Bench relocated"}


@dataclass(frozen=True)
class SimulatorProcess:
    """A running simulator: its root URL (control routes) and API base URL."""

    url: str

    @property
    def base_url(self) -> str:
        """The Sierra API base URL, as SIERRA_API_ENDPOINT would hold it."""
        return self.url + "/iii/sierra-api/v6"

    def stats(self) -> dict[str, Any]:
        """What `GET /_simulator/stats` answers (request counts, PUTs, ...)."""
        response = httpx.get(self.url + "/_simulator/stats", timeout=30)
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def edit_items(self, *, every: int) -> list[int]:
        """Edit every `every`-th live item (location -> EDITED_LOCATION); return the edited ids."""
        response = httpx.post(self.url + "/_bench/edit-items", json={"every": every}, timeout=600)
        response.raise_for_status()
        edited: list[int] = response.json()["edited"]
        return edited


@contextmanager
def sierra_simulator(items: int, *, latency_ms: float = 0.0, warm: bool = False) -> Iterator[SimulatorProcess]:
    """Serve a simulator seeded with `items` items in a child process for the block."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        f"--port={port}",
        f"--items={items}",
        f"--latency-ms={latency_ms}",
        *(["--warm"] if warm else []),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    simulator = SimulatorProcess(f"http://127.0.0.1:{port}")
    try:
        wait_until_up(simulator, process)
        yield simulator
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(simulator: SimulatorProcess, process: subprocess.Popen[bytes]) -> None:
    """Poll the stats route until the simulator answers (seeding 1M items takes a while)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Sierra simulator exited with {process.returncode}")
        try:
            simulator.stats()
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the Sierra simulator did not start")


def serve(argv: list[str] | None = None) -> None:
    """Seed the simulator and serve it, with the benchmark-only edit route."""
    import uvicorn
    from fastapi import Body, FastAPI
    from sierra_simulator import SierraStore, SimulatorConfig, StoreError, create_simulator_app
    from sierra_simulator.faults import FaultConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--warm", action="store_true", help="build the date indexes before serving")
    args = parser.parse_args(argv)
    config = SimulatorConfig(
        item_count=args.items,
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        faults=FaultConfig(latency_ms=args.latency_ms),
    )
    app: FastAPI = create_simulator_app(config)
    store: SierraStore = app.state.simulator.store
    if args.warm:
        store.warm_indexes()

    def edit_items(every: int = Body(embed=True, ge=1)) -> dict[str, list[int]]:
        edited = []
        for item_id in range(store.first_item_id, store.last_item_id + 1, every):
            try:
                store.edit_item(item_id, location=EDITED_LOCATION)
            except StoreError:
                continue  # a deleted item: Sierra has no location to change
            edited.append(item_id)
        return {"edited": edited}

    app.add_api_route("/_bench/edit-items", edit_items, methods=["POST"])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    serve()
