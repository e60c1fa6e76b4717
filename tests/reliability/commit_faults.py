"""A database whose COMMIT fails, and a fingerprint of everything stored, for the commit-failure scenarios.

A deferred constraint trigger on every table lets each statement succeed and raises when the
transaction commits: the failure surfaces after the route's work is done, where a connection lost
at COMMIT or a deferred constraint would surface it.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from tarroitus import models
from tarroitus.db import Base

FAIL_AT_COMMIT = "reliability_fail_at_commit"
#: SQLSTATEs the trigger raises: a serialization failure (retryable, as a lost connection is) and a check violation.
SERIALIZATION_FAILURE = "40001"
CHECK_VIOLATION = "23514"


def table_names() -> list[str]:
    """Every table of the schema."""
    assert models  # registers every table on Base.metadata
    return sorted(Base.metadata.tables)


@contextmanager
def commit_fails(engine: Engine, *, sqlstate: str) -> Iterator[None]:
    """While the block runs, any transaction that wrote a row fails at COMMIT with `sqlstate`."""
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE FUNCTION {FAIL_AT_COMMIT}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION USING ERRCODE = TG_ARGV[0], MESSAGE = 'commit refused by the fault scenario'; "
                "END $$"
            )
        )
        for table in table_names():
            connection.execute(
                text(
                    f'CREATE CONSTRAINT TRIGGER {FAIL_AT_COMMIT} AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {FAIL_AT_COMMIT}('{sqlstate}')"
                )
            )
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP FUNCTION {FAIL_AT_COMMIT}() CASCADE"))


def database_fingerprint(engine: Engine) -> dict[str, str]:
    """Each table's row count and a digest of its rows: equal fingerprints mean nothing was stored."""
    with engine.connect() as connection:
        return {
            table: connection.execute(
                text(
                    f"SELECT count(*) || ':' || coalesce(md5(string_agg(row_text, '|' ORDER BY row_text)), '') "
                    f'FROM (SELECT t::text AS row_text FROM "{table}" t) rows'
                )
            ).scalar_one()
            for table in table_names()
        }
