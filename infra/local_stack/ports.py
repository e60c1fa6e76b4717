"""Listening sockets for the local stack's services, taken before anything starts (standard library only)."""

import errno
import logging
import socket

logger = logging.getLogger("local_stack")

SIERRA_DEFAULT_PORT = 9009
MOTO_DEFAULT_PORT = 5000
DATABASE_TCP_DEFAULT_PORT = 5433


class PortInUseError(Exception):
    """A port the stack was told to use is taken (by a stack still running, or another program)."""


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` (0: a free port); PortInUseError when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Lets a restarted stack reuse a port whose old connections are still in TIME_WAIT; a port with a
    # live listener stays refused on Linux and macOS.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(f"{host}:{port} is in use") from exc
        raise
    # Listening at once holds the port for good: two bound but idle SO_REUSEADDR sockets may share one.
    sock.listen(128)
    return sock


def reserve(host: str, *, requested: int | None, default: int, what: str) -> socket.socket:
    """A socket for a service: the requested port (taken: an error), else its default, else a free port."""
    if requested is not None:
        try:
            return listen(host, requested)
        except PortInUseError as exc:
            raise PortInUseError(
                f"{what}: port {requested} on {host} is in use. Is another local stack running? "
                f"Stop it, or choose another port."
            ) from exc
    try:
        return listen(host, default)
    except PortInUseError:
        sock = listen(host, 0)
        logger.warning("%s: port %d is in use, using %d instead", what, default, sock.getsockname()[1])
        return sock


def port_of(sock: socket.socket) -> int:
    """The port a socket is bound to."""
    port: int = sock.getsockname()[1]
    return port
