"""The database of a `--once` run: its own, on the embedded server, so a running stack's data is never touched.

`make dev ARGS="--once"` seeds a fresh simulator and runs a full sync, the writeback and the ETL
once. Against the development database that a running `make dev` serves, the sync would replace
its items with the fresh simulator's and the ETL would export them. So a one-shot run uses
`<DB_NAME>_once` beside it on the same embedded server, dropped and created anew at each run; a
second one-shot run while one is still going is refused (PostgreSQL will not drop a database in use).
"""

import logging
from pathlib import Path

import psycopg
from psycopg import sql

from tarroitus.embedded_db import start_embedded_server
from tarroitus.settings import Settings

logger = logging.getLogger("local_stack")

ONCE_SUFFIX = "_once"


class OnceDatabaseInUseError(RuntimeError):
    """Another one-shot run still uses the one-shot database."""


def once_database_url(settings: Settings) -> str:
    """A fresh, empty one-shot database on the embedded server (EMBEDDED_DB_DIR); its SQLAlchemy URL."""
    name = settings.db_name + ONCE_SUFFIX
    server = start_embedded_server(Path(settings.embedded_db_dir))
    admin_uri = str(server.get_uri("postgres"))
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        except psycopg.errors.ObjectInUse as exc:
            raise OnceDatabaseInUseError(
                f"database {name} is in use by another --once run; wait for it to finish"
            ) from exc
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    logger.info("--once runs against database %s, created anew", name)
    return str(server.get_uri(name)).replace("postgresql://", "postgresql+psycopg://", 1)
