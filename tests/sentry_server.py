"""A stand-in for Sentry on 127.0.0.1: records every envelope the SDK sends, decoded, for the tests to read."""

import gzip
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RecordedEnvelopes:
    """What arrived: each envelope's raw (decompressed) bytes and its event items."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self._lock = threading.Lock()

    def add(self, body: bytes) -> None:
        with self._lock:
            self.raw.append(body)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every `event` item of every envelope, in arrival order."""
        with self._lock:
            bodies = list(self.raw)
        found = []
        for body in bodies:
            lines = body.split(b"\n")
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found

    def wait_for_events(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The events once at least `count` arrived (fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count:
            assert time.monotonic() < deadline, f"{len(self.events)} of {count} events arrived"
            time.sleep(0.05)
        return self.events


def _decoded(body: bytes, encoding: str) -> bytes:
    # The SDK compresses with gzip (brotli only when that package is installed, which it is not here).
    assert encoding in {"", "gzip"}, encoding
    return gzip.decompress(body) if encoding == "gzip" else body


@contextmanager
def fake_sentry() -> Iterator[tuple[str, RecordedEnvelopes]]:
    """A recording server on a free port; yields its DSN and what it received."""
    recorded = RecordedEnvelopes()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            recorded.add(_decoded(body, self.headers.get("Content-Encoding", "")))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="fake-sentry", daemon=True)
    thread.start()
    try:
        yield f"http://public@127.0.0.1:{server.server_address[1]}/1", recorded
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
