"""Start the local stack: embedded PostgreSQL (migrated) and the API on http://127.0.0.1:8000."""

import argparse
import logging
import os
import signal

import uvicorn

from tarroitus.api.app import create_app
from tarroitus.db import get_engine
from tarroitus.migrate import upgrade_to_head
from tarroitus.settings import get_settings

logger = logging.getLogger("local_stack")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options of the local stack."""
    parser = argparse.ArgumentParser(prog="local_stack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Migrate the database, then serve the API until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("ENV", "local")
    settings = get_settings()
    revision = upgrade_to_head(get_engine(settings))
    logger.info("database migrated to revision %s", revision)
    logger.info("API on http://%s:%d  (docs: http://%s:%d/docs)", args.host, args.port, args.host, args.port)
    # uvicorn re-raises the signal that stopped it; with the default handlers that would kill
    # the process before the embedded server's shutdown (an atexit hook) runs.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: None)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_IGN)
    return 0
