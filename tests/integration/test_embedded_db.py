"""The embedded PostgreSQL default: shared per data directory, robust to killed processes."""

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from tarroitus.embedded_db import create_database_if_missing, prune_stale_handles
from tests import database


def test_prune_stale_handles_drops_dead_pids(tmp_path: Path) -> None:
    # Given
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([dead.pid, 1]))
    # When
    kept = prune_stale_handles(tmp_path)
    # Then
    assert kept == [1]
    assert json.loads(handles.read_text()) == [1]


def test_create_database_if_missing_is_idempotent() -> None:
    # Given
    uri = database.admin_uri()
    name = "tarroitus_idempotent_check"
    # When
    create_database_if_missing(uri, name)
    create_database_if_missing(uri, name)
    # Then
    with psycopg.connect(uri, autocommit=True) as conn:
        found = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()
        conn.execute(f"DROP DATABASE {name}")
    assert found == (1,)
