"""What every benchmark shares: the result line, a timer, percentiles, and a database of its own.

Benchmarks run as scripts (`python bench/<name>.py`), so this module also puts the project root on
`sys.path`: they drive the real Lambda handlers (`functions/...`) with the test suite's event builders
(`tests/events.py`), which are not part of the installed package.
"""

import importlib
import json
import math
import os
import resource
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql
from sqlalchemy import Engine

from tarroitus.db import create_db_engine, reset_engines
from tarroitus.embedded_db import start_embedded_server
from tarroitus.migrate import upgrade_to_head

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.append(str(PROJECT_ROOT))

#: The embedded PostgreSQL server every benchmark uses; each benchmark has a database of its own on it.
DATA_DIR = PROJECT_ROOT / ".data" / "bench-postgres"

#: The environment the in-process Lambda handlers run with: quiet logs, no tracing, no metric lines on stdout
#: (the runner reads stdout for result lines, and Powertools would print its own JSON there).
HANDLER_ENVIRONMENT = {
    "ENV": "local",
    "LOG_LEVEL": "WARNING",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "tarroitus-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "TarroitusBench",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "AWS_DEFAULT_REGION": "eu-north-1",
}


def emit(
    bench: str,
    *,
    metric: str,
    unit: str,
    value: float,
    baseline: float,
    target: float,
    higher_is_better: bool = True,
    ok: bool | None = None,
    **extra: object,
) -> dict[str, object]:
    """Print the benchmark's JSON result line; `ratio` is how many times better than the baseline.

    `ok` is whether `value` meets `target`, unless the benchmark passes its own verdict (several targets).
    """
    if higher_is_better:
        ratio = value / baseline if baseline else None
        met = value >= target
    else:
        ratio = baseline / value if value else None
        met = value <= target
    line: dict[str, object] = {
        "bench": bench,
        "metric": metric,
        "unit": unit,
        "value": round(value, 4),
        "baseline": round(baseline, 4),
        "ratio": round(ratio, 2) if ratio is not None else None,
        "target": target,
        "ok": met if ok is None else ok,
        **extra,
        "load_average": round(os.getloadavg()[0], 2),
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    return line


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """Measure the block's wall time into `result["seconds"]`."""
    result: dict[str, float] = {}
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - started


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (`fraction` 0.99 for p99)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def admin_uri() -> str:
    """A libpq URI to the maintenance database of the benchmarks' embedded server (started if needed)."""
    return str(start_embedded_server(DATA_DIR).get_uri("postgres"))


def database_url(name: str) -> str:
    """The SQLAlchemy URL of database `name` on the benchmarks' server."""
    return str(start_embedded_server(DATA_DIR).get_uri(name)).replace("postgresql://", "postgresql+psycopg://", 1)


def drop_database(name: str) -> None:
    """Drop database `name` (and end its sessions)."""
    with psycopg.connect(admin_uri(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def bench_database(name: str, *, pool_size: int = 2) -> Iterator[Engine]:
    """A fresh, migrated database `name` for the block; dropped afterwards, whatever happened."""
    drop_database(name)
    with psycopg.connect(admin_uri(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    engine = create_db_engine(database_url(name), pool_size=pool_size)
    try:
        upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        drop_database(name)


@contextmanager
def api_handler(database: str) -> Iterator[ModuleType]:
    """The API Lambda handler module (`functions/api/handler.py`), configured as a Lambda on `database`.

    The handler reads its settings when imported, so the environment is set first. Inside the block
    stdout goes to stderr (Powertools prints its cold-start metric line there, and stdout carries the
    result lines); afterwards the handler's database connections are closed, so the database can be dropped.
    """
    os.environ.update(HANDLER_ENVIRONMENT)
    os.environ["DATABASE_URL"] = database_url(database)
    try:
        with redirect_stdout(sys.stderr):
            yield importlib.import_module("functions.api.handler")
    finally:
        reset_engines()
