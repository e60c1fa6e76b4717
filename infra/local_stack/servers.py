"""The local stack's servers: uvicorn in a thread, moto, and a TCP door to PostgreSQL."""

import asyncio
import contextlib
import contextvars
import logging
import socket
import threading
import time
from typing import Any
from urllib.parse import unquote_plus

import uvicorn

from local_stack.ports import port_of, reserve
from tarroitus.services.api_keys import KEY_PREFIX

logger = logging.getLogger("local_stack")


class SkipPaths(logging.Filter):
    """Drops uvicorn access-log records of requests under some path prefixes (the simulator shares the logger)."""

    def __init__(self, *prefixes: str) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a request whose path starts with one of the prefixes."""
        args = record.args
        path = args[2] if isinstance(args, tuple) and len(args) > 2 else ""
        return not str(path).startswith(self.prefixes)


def server_config(app: Any, *, log_level: str, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for the stack's servers: no lifespan, and no trust in `X-Forwarded-For`.

    uvicorn believes forwarded headers from 127.0.0.1 by default; the stack has no proxy in front, so
    any local client could otherwise pose as any address (and dodge the failed-authentication limit).
    """
    return uvicorn.Config(app, log_level=log_level, lifespan="off", proxy_headers=False, **options)


#: Query parameters that carry a credential, by name (lower case, "-" as "_"); the API refuses keys sent this way.
CREDENTIAL_PARAMETERS = frozenset(
    {"api_key", "apikey", "x_api_key", "key", "token", "access_token", "auth", "authorization", "password", "secret"}
)
REDACTED = "REDACTED"


def redact_query(target: str) -> str:
    """`target` (a path with its query string) with every credential in the query replaced by REDACTED.

    A credential is the value of a parameter named like one, or any value (or bare word) that starts
    with the project's key prefix, whatever its parameter is called.
    """
    path, separator, query = target.partition("?")
    if not separator:
        return target
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if unquote_plus(value if equals else name).startswith(KEY_PREFIX):
            pair = f"{name}={REDACTED}" if equals else REDACTED
        elif equals and unquote_plus(name).lower().replace("-", "_") in CREDENTIAL_PARAMETERS:
            pair = f"{name}={REDACTED}"
        pairs.append(pair)
    return f"{path}?{'&'.join(pairs)}"


class RedactQueryCredentials(logging.Filter):
    """Masks credentials in the request target of uvicorn's access-log records (`%s - "%s %s HTTP/%s" %d`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record, with its request target redacted."""
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


class UvicornThread:
    """An ASGI app served by uvicorn in a daemon thread, on a socket bound beforehand."""

    def __init__(
        self,
        app: Any,
        sock: socket.socket,
        *,
        name: str,
        log_level: str = "warning",
        context: contextvars.Context | None = None,
    ) -> None:
        self.sock = sock
        config = server_config(app, log_level=log_level, access_log=False, timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        # A thread starts with an empty context: `context` (its log keys) is what the requests see.
        run = (context or contextvars.Context()).run
        self._thread = threading.Thread(
            target=run, args=(self.server.run,), kwargs={"sockets": [sock]}, name=name, daemon=True
        )

    def start(self, timeout_seconds: float = 10.0) -> None:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self._thread.name} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self.sock.close()


class MotoServer:
    """moto's S3 and Secrets Manager (and every other service moto has) on 127.0.0.1, in a thread."""

    def __init__(self, host: str, port: int) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)

    def start(self) -> str:
        """Start the server; returns its endpoint URL."""
        self._server.start()
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop the server (its state is in memory and is lost)."""
        self._server.stop()


def free_port_for_moto(host: str, *, requested: int | None, default: int) -> int:
    """A port for moto, which binds its own socket: checked free now, released for moto to take."""
    sock = reserve(host, requested=requested, default=default, what="moto server")
    port = port_of(sock)
    sock.close()
    return port


class UnixSocketProxy:
    """Forwards TCP connections on a bound socket to a unix socket (the embedded PostgreSQL listens on no port).

    PostgreSQL answers an SSL or GSS request on a unix socket with "no", so clients such as psql
    (sslmode=prefer) carry on in plain text.
    """

    def __init__(self, sock: socket.socket, unix_path: str) -> None:
        self.sock = sock
        self.unix_path = unix_path
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="postgres-tcp-proxy", daemon=True)

    def start(self) -> None:
        """Start accepting connections."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the PostgreSQL TCP proxy did not start")

    def stop(self) -> None:
        """Stop accepting connections and close the open ones."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, sock=self.sock))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_unix_connection(self.unix_path)
        except OSError:
            logger.warning("PostgreSQL TCP proxy: cannot reach %s", self.unix_path)
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()
