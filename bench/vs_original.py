"""Benchmark: Tarroitus side by side with the backend it replaces, both over uvicorn on loopback, same work.

`python bench/vs_original.py [--original-dir DIR] [--rows N] [--lookups N] [--runs N] [--quick]`

The original is City-of-Helsinki/signum-savotta's `backend/` (measured at 4063370), given by
`--original-dir` or `ORIGINAL_BACKEND_DIR` (the directory holding `requirements.txt` and `src/main.py`).
Without it the benchmark prints one `skipped` line and exits 0. Its virtualenv is built once from its
`requirements.txt` with uv and the installed Python 3.13 into `.data/vs_original/` (keyed on the
requirements' hash); none of its code is copied anywhere.

Both backends are served by uvicorn (each with the uvicorn its own lock pins; one process, asyncio loop,
h11) on 127.0.0.1, against the benchmarks' embedded PostgreSQL server, each in a database of its own
(the original over asyncpg on the server's unix socket, Tarroitus over psycopg). Per run and per backend:

- start to first answer: from spawning uvicorn to the first 200 from `GET /readiness` (which runs
  `SELECT 1`). The original creates its tables in its lifespan; Tarroitus's database is migrated
  beforehand, as the migrate function does in AWS.
- upload: one legacy `POST /sync` (multipart gzip TSV, `x-api-key` of an ETL client) of ROWS rows, built
  as the sync agent builds it (`bench/ingest_upload.py:agent_rows`), after a warm-up `GET /sync`;
  rows per second from sending the request until both its answer has arrived and its rows are
  visible to another connection (committed); the server's peak RSS over it (the kernel's high-water
  mark is reset just before the request) and its growth over the RSS before it.
- look-ups: LOOKUPS sequential legacy `GET /itemdata/{barcode}` on one keep-alive connection after
  WARMUP untimed ones, barcodes drawn at random from the upload (the same sequence for both); p50/p99
  wall time per request as the station sees it. Every answer must be 200 with the barcode asked for.

The runs alternate between the backends (original first) and each figure is the median over the runs.
Prints one JSON result line per figure (bench/common.py): `value` is Tarroitus's, `baseline` the
original's, `ratio` how many times better Tarroitus is, with both figures of every run and the load
average. Targets: upload rows/s >= 10x; peak RSS no higher than the original's; look-up p50 and p99 at
most half the original's.
"""

import argparse
import gzip
import hashlib
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from common import (
    DATA_DIR,
    HANDLER_ENVIRONMENT,
    PROJECT_ROOT,
    admin_uri,
    bench_database,
    database_url,
    drop_database,
    emit,
    percentile,
)
from ingest_upload import FIRST_ITEM, agent_rows, register_sync_agent
from psycopg import sql
from sqlalchemy.orm import Session

from tarroitus.db import create_db_engine
from tarroitus.domain import ClientRole
from tarroitus.services.clients import register_client
from tarroitus.settings import DEVELOPMENT_PEPPER
from tests.uploads import LEGACY_HEADER, legacy_tsv_gz

BENCH = "vs_original"
ORIGINAL_DATABASE = "tarroitus_bench_vs_original_original"
TARROITUS_DATABASE = "tarroitus_bench_vs_original_tarroitus"
SIZES = {"full": {"rows": 100_000, "lookups": 2_500, "runs": 3}, "quick": {"rows": 20_000, "lookups": 1_000, "runs": 1}}
WARMUP = 200
BARCODE_COLUMN = LEGACY_HEADER.index("barcode")
VENV_ROOT = PROJECT_ROOT / ".data" / "vs_original"
START_TIMEOUT_SECONDS = 120.0
UPLOAD_TIMEOUT_SECONDS = 600.0
UPLOAD_AT = datetime(2026, 11, 23, 8, tzinfo=UTC)
#: The result lines: metric, unit, `Figures` field, whether higher is better, and how many times better the target is.
FIGURES = (
    ("upload_rows_per_second", "rows/s", "upload_rows_per_second", True, 10.0),
    ("upload_peak_rss", "MiB", "peak_rss_mib", False, 1.0),
    ("lookup_p50", "ms", "lookup_p50_ms", False, 2.0),
    ("lookup_p99", "ms", "lookup_p99_ms", False, 2.0),
    ("start_to_first_answer", "s", "start_seconds", False, 1.0),
)
#: What the original reads from its environment; Sierra is never reached (the writeback job is pushed a day out).
ORIGINAL_ENVIRONMENT = {
    "ENV": "bench",
    "LOG_LEVEL": "WARNING",
    "SIERRA_API_ENDPOINT": "http://127.0.0.1:9/iii/sierra-api/v6",
    "SIERRA_API_CLIENT_POOL_SIZE": "1",
    "SIERRA_API_CLIENT_KEY": "unused",
    "SIERRA_API_CLIENT_SECRET": "unused",
    "SIERRA_UPDATE_INTERVAL_SECONDS": "86400",
    "FULL_SYNC_BATCH_SIZE": "80000",
}


@dataclass
class Figures:
    """One backend's figures in one run."""

    start_seconds: float
    upload_rows_per_second: float
    upload_seconds: float
    rss_before_mib: float
    peak_rss_mib: float
    lookup_p50_ms: float
    lookup_p99_ms: float

    @property
    def rss_growth_mib(self) -> float:
        """How far the upload pushed the server's resident set above where it stood before."""
        return self.peak_rss_mib - self.rss_before_mib


@dataclass
class Backend:
    """How to start one backend: its command, its database for one run, and its two clients' keys."""

    name: str
    command: list[str]
    cwd: Path
    environment: dict[str, str]
    database_name: str
    items_table: str
    database: Callable[[], AbstractContextManager[object]]
    register_clients: Callable[[], tuple[str, str]]
    runs: list[Figures] = field(default_factory=list)


def main() -> None:
    """Measure both backends RUNS times, alternately, and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original-dir", default=os.environ.get("ORIGINAL_BACKEND_DIR"))
    parser.add_argument("--rows", type=int)
    parser.add_argument("--lookups", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 1,000 look-ups, one run")
    args = parser.parse_args()
    sizes = SIZES["quick" if args.quick else "full"]
    rows, lookups, runs = args.rows or sizes["rows"], args.lookups or sizes["lookups"], args.runs or sizes["runs"]
    original_dir = Path(args.original_dir).resolve() if args.original_dir else None
    if original_dir is None or not (original_dir / "src" / "main.py").is_file():
        skip(f"no original backend: set ORIGINAL_BACKEND_DIR or --original-dir (got {args.original_dir!r})")
        return
    load_before = os.getloadavg()
    data = legacy_tsv_gz(agent_rows(FIRST_ITEM, rows), mtime=0)
    barcodes = lookup_barcodes(data, WARMUP + lookups)
    backends = [original_backend(original_dir), tarroitus_backend()]
    for _ in range(runs):
        for backend in backends:
            backend.runs.append(measure(backend, data, rows=rows, barcodes=barcodes))
    report(backends, rows=rows, lookups=lookups, gzip_bytes=len(data), load_before=load_before)


def skip(reason: str) -> None:
    """The one line of a benchmark that could not run here: no figures, and no verdict."""
    line = {
        "bench": BENCH,
        "metric": "skipped",
        "unit": "",
        "value": None,
        "baseline": None,
        "ratio": None,
        "target": None,
        "ok": None,
        "reason": reason,
        "load_average": round(os.getloadavg()[0], 2),
    }
    sys.stdout.write(json.dumps(line) + "\n")


def lookup_barcodes(data: bytes, count: int) -> list[str]:
    """`count` barcodes of the upload, drawn at random with a fixed seed (repeats allowed)."""
    lines = gzip.decompress(data).decode().splitlines()
    barcodes = [line.split("\t")[BARCODE_COLUMN] for line in lines[1:]]
    return random.Random(1).choices(barcodes, k=count)


def original_backend(original_dir: Path) -> Backend:
    """The original backend over its own virtualenv, on the benchmarks' server's unix socket."""
    python = original_python(original_dir)
    server = server_address()
    environment = {
        **ORIGINAL_ENVIRONMENT,
        "DB_HOST": server["host"],
        "DB_PORT": server["port"],
        "DB_USER": server["user"],
        "DB_PASSWORD": "",
        "DB_NAME": ORIGINAL_DATABASE,
    }

    def register_clients() -> tuple[str, str]:
        # The original stores keys in clear and creates its tables at start: insert them once it answers.
        printer, agent = "bench-printer-" + os.urandom(16).hex(), "bench-agent-" + os.urandom(16).hex()
        with psycopg.connect(libpq_uri(ORIGINAL_DATABASE), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO client (client_name, client_type, api_key) VALUES"
                " ('bench printer', 'SIGNUM_PRINTER', %s), ('bench agent', 'ETL', %s)",
                (printer, agent),
            )
        return printer, agent

    return Backend(
        name="original",
        command=[str(python), "-m", "uvicorn", "main:app", *uvicorn_options()],
        cwd=original_dir / "src",
        environment=environment,
        database_name=ORIGINAL_DATABASE,
        items_table="sierra_item",
        database=lambda: empty_database(ORIGINAL_DATABASE),
        register_clients=register_clients,
    )


def tarroitus_backend() -> Backend:
    """Tarroitus's app factory over this project's virtualenv, on a migrated database of its own."""

    def register_clients() -> tuple[str, str]:
        engine = create_db_engine(database_url(TARROITUS_DATABASE), pool_size=1)
        try:
            with Session(engine) as session, session.begin():
                printer = register_client(
                    session, name="bench printer", role=ClientRole.PRINTER, pepper=DEVELOPMENT_PEPPER
                ).api_key
            return printer, register_sync_agent(engine)
        finally:
            engine.dispose()

    return Backend(
        name="tarroitus",
        command=[sys.executable, "-m", "uvicorn", "tarroitus.api.app:create_app", "--factory", *uvicorn_options()],
        cwd=PROJECT_ROOT,
        environment={**HANDLER_ENVIRONMENT, "DATABASE_URL": database_url(TARROITUS_DATABASE)},
        database_name=TARROITUS_DATABASE,
        items_table="items",
        database=lambda: bench_database(TARROITUS_DATABASE),
        register_clients=register_clients,
    )


def uvicorn_options() -> list[str]:
    """The same server options for both: loopback, one process, asyncio and h11, no access log."""
    return ["--host", "127.0.0.1", "--port", "{port}", "--loop", "asyncio", "--http", "h11", "--no-access-log"]


def original_python(original_dir: Path) -> Path:
    """The original's virtualenv (built on first use from its requirements.txt), its interpreter."""
    requirements = original_dir / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    venv = VENV_ROOT / f"venv-{digest}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        uv = [str(PROJECT_ROOT / "scripts" / "uv")]
        subprocess.run([*uv, "venv", "--quiet", str(venv)], check=True, stdout=sys.stderr)
        subprocess.run(
            [*uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(requirements)],
            check=True,
            stdout=sys.stderr,
        )
        (venv / ".complete").write_text(digest)
    return python


def server_address() -> dict[str, str]:
    """Where the benchmarks' server listens (its unix socket directory and port) and as whom to connect."""
    info = psycopg.conninfo.conninfo_to_dict(admin_uri())
    with psycopg.connect(admin_uri()) as conn:
        port = conn.execute("SHOW port").fetchone()
    return {"host": str(info.get("host", DATA_DIR)), "port": str(port[0] if port else 5432), "user": str(info["user"])}


@contextmanager
def empty_database(name: str) -> Iterator[None]:
    """An empty database `name` on the benchmarks' server for the block; dropped afterwards."""
    drop_database(name)
    with psycopg.connect(admin_uri(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield
    finally:
        drop_database(name)


def libpq_uri(name: str) -> str:
    """The libpq URI of database `name` on the benchmarks' server."""
    return database_url(name).replace("postgresql+psycopg://", "postgresql://", 1)


def measure(backend: Backend, data: bytes, *, rows: int, barcodes: Sequence[str]) -> Figures:
    """Start the backend on a fresh database, time its start, the upload and the look-ups, stop it."""
    with backend.database():
        return measure_server(backend, data, rows=rows, barcodes=barcodes)


def measure_server(backend: Backend, data: bytes, *, rows: int, barcodes: Sequence[str]) -> Figures:
    """Serve the backend on its database and take its figures."""
    last_barcode = gzip.decompress(data).decode().splitlines()[-1].split("\t")[BARCODE_COLUMN]
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in backend.command]
    environment = {**os.environ, **backend.environment}
    started = time.perf_counter()
    with served(command, backend.cwd, environment) as process:
        wait_until_ready(process, port)
        start_seconds = time.perf_counter() - started
        printer_key, agent_key = backend.register_clients()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=UPLOAD_TIMEOUT_SECONDS) as client:
            warm = client.get("/sync", headers={"x-api-key": agent_key})
            if warm.status_code != 200:
                raise RuntimeError(f"{backend.name}: GET /sync {warm.status_code} {warm.text[:200]}")
            rss_before = reset_peak_rss(process.pid)
            upload_started = time.perf_counter()
            answer = client.post(
                "/sync",
                headers={"x-api-key": agent_key},
                files={"file": ("data.tsv.gz", data, "application/gzip")},
                data={"timestamp": UPLOAD_AT.isoformat()},
            )
            if answer.status_code != 200 or answer.json() != {"upserted": rows}:
                raise RuntimeError(f"{backend.name}: POST /sync {answer.status_code} {answer.text[:300]}")
            wait_until_stored(backend, last_barcode)
            upload_seconds = time.perf_counter() - upload_started
            peak = peak_rss_mib(process.pid)
        latencies = time_lookups(port, printer_key, barcodes, backend_name=backend.name)
    return Figures(
        start_seconds=start_seconds,
        upload_rows_per_second=rows / upload_seconds,
        upload_seconds=upload_seconds,
        rss_before_mib=rss_before,
        peak_rss_mib=peak,
        lookup_p50_ms=percentile(latencies, 0.50) * 1000,
        lookup_p99_ms=percentile(latencies, 0.99) * 1000,
    )


def wait_until_stored(backend: Backend, barcode: str) -> None:
    """Poll until the upload's last row is visible to another connection: its transaction has committed.

    An answer sent before the commit (which a backend may do) must not count as stored; the commit is
    atomic, so one row visible means all of them are.
    """
    query = sql.SQL("SELECT 1 FROM {} WHERE barcode = %s").format(sql.Identifier(backend.items_table))
    deadline = time.perf_counter() + UPLOAD_TIMEOUT_SECONDS
    with psycopg.connect(libpq_uri(backend.database_name), autocommit=True) as conn:
        while conn.execute(query, (barcode,)).fetchone() is None:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{backend.name}: barcode {barcode} not stored within {UPLOAD_TIMEOUT_SECONDS} s")
            time.sleep(0.005)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(command: list[str], cwd: Path, environment: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """The server process for the block; stopped (SIGINT, then SIGKILL) afterwards, whatever happened."""
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=sys.stderr, stderr=sys.stderr)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(process: subprocess.Popen[bytes], port: int) -> None:
    """Poll `GET /readiness` every 10 ms until it answers 200."""
    deadline = time.perf_counter() + START_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering")
        try:
            with httpx.Client(timeout=2) as client:
                if client.get(f"http://127.0.0.1:{port}/readiness").status_code == 200:
                    return
        except httpx.TransportError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"no answer within {START_TIMEOUT_SECONDS} s")


def reset_peak_rss(pid: int) -> float:
    """Reset the process's RSS high-water mark (/proc/PID/clear_refs, 5) and return its RSS now, in MiB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return proc_status_mib(pid, "VmRSS")


def peak_rss_mib(pid: int) -> float:
    """The process's RSS high-water mark, in MiB."""
    return proc_status_mib(pid, "VmHWM")


def proc_status_mib(pid: int, key: str) -> float:
    """A `kB` figure of /proc/PID/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no {key}")


def time_lookups(port: int, api_key: str, barcodes: Sequence[str], *, backend_name: str) -> list[float]:
    """Wall seconds of each timed `GET /itemdata/{barcode}` on one keep-alive connection, after WARMUP."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"x-api-key": api_key}
    latencies: list[float] = []
    try:
        for index, barcode in enumerate(barcodes):
            before = time.perf_counter()
            connection.request("GET", f"/itemdata/{barcode}", headers=headers)
            response = connection.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - before
            if response.status != 200 or f'"barcode":"{barcode}"' not in body.decode():
                raise RuntimeError(f"{backend_name}: GET /itemdata/{barcode}: {response.status} {body[:200]!r}")
            if index >= WARMUP:
                latencies.append(elapsed)
    finally:
        connection.close()
    return latencies


def report(backends: list[Backend], *, rows: int, lookups: int, gzip_bytes: int, load_before: Sequence[float]) -> None:
    """The result lines: Tarroitus's median against the original's, with every run's figures."""
    original, ours = backends

    def median(backend: Backend, name: str) -> float:
        return float(statistics.median(getattr(figures, name) for figures in backend.runs))

    def runs(name: str) -> dict[str, Any]:
        return {
            "original_runs": [round(getattr(figures, name), 3) for figures in original.runs],
            "tarroitus_runs": [round(getattr(figures, name), 3) for figures in ours.runs],
        }

    common: dict[str, Any] = {
        "rows": rows,
        "gzip_bytes": gzip_bytes,
        "lookups": lookups,
        "warmup_lookups": WARMUP,
        "runs": len(ours.runs),
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "baseline_method": "City-of-Helsinki/signum-savotta backend/ over uvicorn, same server, same requests",
    }
    for metric, unit, name, higher_is_better, target_ratio in FIGURES:
        value, baseline = median(ours, name), median(original, name)
        target = baseline * target_ratio if higher_is_better else baseline / target_ratio
        extra: dict[str, Any] = {}
        if name == "peak_rss_mib":
            extra = {
                "growth_mib": round(median(ours, "rss_growth_mib"), 1),
                "baseline_growth_mib": round(median(original, "rss_growth_mib"), 1),
            }
        emit(
            BENCH,
            metric=metric,
            unit=unit,
            value=value,
            baseline=baseline,
            target=round(target, 4),
            higher_is_better=higher_is_better,
            target_ratio=target_ratio,
            **extra,
            **runs(name),
            **common,
        )


if __name__ == "__main__":
    main()
