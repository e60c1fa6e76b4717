"""`python -m local_stack` stops on SIGTERM while a hostile GraphQL query is in flight.

uvicorn waits for requests in flight before it exits, and a request's handler thread cannot be
interrupted: a query whose validation ran for minutes held the stack up for as long. The stack runs
as a real process here, against the test run's database, with its env.json written to the test's
own directory.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.database import PROJECT_ROOT

START_SECONDS = 120
STOP_SECONDS = 30
#: Twenty-six levels of fragments each spreading the next twice: about a thousand characters.
LEVELS = 26
#: Runs the CLI with its env.json in the test's directory instead of infra/env.json.
BOOTSTRAP = (
    "import sys, pathlib, local_stack.stack as stack; stack.ENV_JSON = pathlib.Path(sys.argv[1]); "
    "from local_stack.cli import main; sys.exit(main(sys.argv[2:]))"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class StackProcess:
    """The CLI in a child process, its output collected by a reader thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line.strip() for line in self.lines if line.strip().startswith(prefix)), None)
            if found is not None:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no {prefix!r} line; output:\n{''.join(self.lines)}")


@pytest.fixture
def stack_process(committed_db: Engine, tmp_path: Path) -> Iterator[StackProcess]:
    ports = {flag: str(free_port()) for flag in ("--port", "--sierra-port", "--moto-port", "--db-port")}
    arguments = [arg for pair in ports.items() for arg in pair]
    env = {**os.environ, "DATABASE_URL": committed_db.url.render_as_string(hide_password=False), "ENV": "local"}
    options = ["--no-scheduler", "--items", "20", "--state-dir", str(tmp_path / "state"), *arguments]
    process = subprocess.Popen(
        [sys.executable, "-c", BOOTSTRAP, str(tmp_path / "env.json"), *options],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = StackProcess(process)
    try:
        yield stack
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def fragment_explosion(levels: int) -> str:
    fragments = "".join(f"fragment F{i} on Item {{ ...F{i + 1} ...F{i + 1} }} " for i in range(levels))
    return f"query {{ item(itemId: 1) {{ ...F0 }} }} {fragments}fragment F{levels} on Item {{ barcode }}"


@pytest.mark.slow
def test_sigterm_stops_the_local_stack_while_a_hostile_graphql_query_is_in_flight(stack_process: StackProcess) -> None:
    # Given: the stack serving, and a client posting 2^26 selections hidden in thousand characters of fragments
    api = stack_process.wait_for("API", START_SECONDS).split()[1].removesuffix("/api/v1")
    admin_key = stack_process.wait_for("Admin key", START_SECONDS).split()[-1]
    answers: list[int | str] = []

    def post() -> None:
        try:
            response = httpx.post(
                f"{api}/api/v1/graphql",
                json={"query": fragment_explosion(LEVELS)},
                headers={"X-API-Key": admin_key},
                timeout=STOP_SECONDS + 10,
            )
            answers.append(response.status_code)
        except httpx.TransportError as exc:
            answers.append(type(exc).__name__)

    client = threading.Thread(target=post)
    client.start()
    time.sleep(0.5)
    # When
    stack_process.process.send_signal(signal.SIGTERM)
    # Then: the stack is down within the stop budget, having stopped cleanly
    try:
        returncode = stack_process.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running {STOP_SECONDS} s after SIGTERM") from None
    client.join(timeout=STOP_SECONDS + 15)
    assert returncode == 0, "".join(stack_process.lines)
    assert answers and answers[0] != 500
