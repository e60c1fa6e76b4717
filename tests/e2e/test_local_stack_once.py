"""`python -m local_stack --once` runs against a fresh database of its own, never the running stack's.

The CLI runs as a real process on the test server's embedded PostgreSQL, with DB_NAME naming this
run's database as a running `make dev` would name its own; it must leave that database as it was.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, func, select

from tarroitus.models import Item, JobRun
from tests.database import PROJECT_ROOT, TEST_DATA_DIR, admin_uri

ITEMS = 120
FUNCTIONS = {
    "sierra_sync": "tarroitus-local-SierraSyncFunction",
    "sierra_writeback": "tarroitus-local-SierraWritebackFunction",
    "etl": "tarroitus-local-EtlFunction",
}


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        items = connection.scalar(select(func.count()).select_from(Item))
        runs = connection.scalar(select(func.count()).select_from(JobRun))
    return int(items or 0), int(runs or 0)


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_ADMIN_URL")), reason="needs the embedded test server")
def test_once_syncs_into_its_own_database_and_logs_each_function_by_name(committed_db: Engine, tmp_path: Path) -> None:
    # Given: the run's database standing for the one a running stack serves (its name in DB_NAME)
    stack_database = committed_db.url.database
    assert stack_database is not None
    before = counts(committed_db)
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DB_HOST", "ENV"}}
    environment.update(EMBEDDED_DB_DIR=str(TEST_DATA_DIR), DB_NAME=stack_database, LOG_LEVEL="INFO")
    environment.pop("POWERTOOLS_METRICS_DISABLED", None)
    once_database = stack_database + "_once"
    try:
        # When
        completed = subprocess.run(
            [sys.executable, "-m", "local_stack", "--once", "--items", str(ITEMS), "--state-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env=environment,
            timeout=240,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        with psycopg.connect(psycopg.conninfo.make_conninfo(admin_uri(), dbname=once_database)) as conn:
            once_items = conn.execute("SELECT count(*) FROM items").fetchone()
    finally:
        with psycopg.connect(admin_uri(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(once_database)))

    # Then: the stack's database is as it was; the one-shot database got the simulator's items
    assert counts(committed_db) == before
    assert once_items is not None and 0 < once_items[0] <= ITEMS
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    reports = [line for line in lines if "job" in line]
    assert [(report["job"], report["error"]) for report in reports] == [(job, None) for job in FUNCTIONS]
    # And no EMF metric line (metrics are off locally), and every log line names the function that logged it
    assert [line for line in lines if "_aws" in line] == []
    job_of_line, seen = [], iter(FUNCTIONS)
    current = next(seen)
    for line in lines:
        if "job" in line:
            current = next(seen, "")
        elif "level" in line:
            job_of_line.append((FUNCTIONS[current], line["function_name"]))
    assert job_of_line and all(expected == logged for expected, logged in job_of_line)
