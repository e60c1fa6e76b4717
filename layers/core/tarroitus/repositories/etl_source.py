"""Reads for the Parquet export: `COPY (SELECT ...) TO STDOUT` as CSV, in keyset batches.

The export never holds rows as Python objects: each batch arrives as CSV bytes that the ETL
services parse straight into a typed frame. Timestamps travel as integer microseconds since the
epoch and booleans as 0/1, so the parser needs no date or boolean formats. Callers run every
read of one export inside a single REPEATABLE READ transaction, so all tables come from one
snapshot of the database.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import sql
from sqlalchemy import text
from sqlalchemy.orm import Session


def _epoch_us(column: str) -> str:
    return f"(extract(epoch FROM {column}) * 1000000)::bigint"


@dataclass(frozen=True)
class SourceTable:
    """One exported table: output columns as SQL expressions, its keyset column, its event time if any."""

    name: str
    columns: dict[str, str]
    from_clause: str
    key: str
    event_time: str | None = None


ITEMS = SourceTable(
    name="items",
    columns={
        "item_record_id": "i.item_record_id",
        "item_number": "i.item_number",
        "barcode": "i.barcode",
        "bib_record_id": "i.bib_record_id",
        "bib_number": "i.bib_number",
        "best_author": "i.best_author",
        "best_title": "i.best_title",
        "itype_code_num": "i.itype_code_num",
        "item_type_name": "i.item_type_name",
        "material_code": "i.material_code",
        "material_name": "i.material_name",
        "location_code": "i.location_code",
        "location_name": "i.location_name",
        "status_code": "i.status_code",
        "status_name": "i.status_name",
        "call_number": "i.call_number",
        "classification": "i.classification",
        "classification_override": "i.classification_override",
        "signum": "i.signum",
        "suppressed": "i.suppressed::int",
        "deleted": "i.deleted::int",
        "deleted_at": _epoch_us("i.deleted_at"),
        "sierra_created_at": _epoch_us("i.sierra_created_at"),
        "sierra_updated_at": _epoch_us("i.sierra_updated_at"),
        "synced_at": _epoch_us("i.synced_at"),
        "print_count": "i.print_count",
        "last_printed_at": _epoch_us("i.last_printed_at"),
        "last_printed_by": "i.last_printed_by::text",
        "writeback_status": "w.status::text",
        "written_back_at": _epoch_us("w.completed_at"),
    },
    from_clause="items i LEFT JOIN writeback_queue w ON w.item_record_id = i.item_record_id",
    key="i.item_record_id",
)

# Key material (key_id, key_hash) and network addresses never leave the database.
CLIENTS = SourceTable(
    name="clients",
    columns={
        "client_id": "c.id::text",
        "name": "c.name",
        "role": "c.role::text",
        "created_at": _epoch_us("c.created_at"),
        "key_rotated_at": _epoch_us("c.key_rotated_at"),
        "revoked_at": _epoch_us("c.revoked_at"),
        "last_seen_at": _epoch_us("c.last_seen_at"),
        "client_version": "c.client_version",
        "host_name": "c.host_name",
        "printer_state": "c.printer_state",
    },
    from_clause="clients c",
    key="c.id::text",
)

LABEL_EVENTS = SourceTable(
    name="label_events",
    columns={
        "id": "e.id",
        "item_record_id": "e.item_record_id",
        "client_id": "e.client_id::text",
        "classification": "e.classification",
        "signum": "e.signum",
        "printed_at": _epoch_us("e.printed_at"),
        "source": "e.source",
    },
    from_clause="label_events e",
    key="e.id",
    event_time="e.printed_at",
)

WRITEBACK_ATTEMPTS = SourceTable(
    name="writeback_attempts",
    columns={
        "id": "a.id",
        "item_record_id": "a.item_record_id",
        "attempted_at": _epoch_us("a.attempted_at"),
        "outcome": "a.outcome",
        "classification": "a.classification",
        "http_status": "a.http_status",
        "sierra_code": "a.sierra_code",
        "error": "a.error",
        "duration_ms": "a.duration_ms",
    },
    from_clause="writeback_attempts a",
    key="a.id",
    event_time="a.attempted_at",
)

SOURCE_TABLES: dict[str, SourceTable] = {
    table.name: table for table in (ITEMS, CLIENTS, LABEL_EVENTS, WRITEBACK_ATTEMPTS)
}


def begin_snapshot(session: Session) -> datetime:
    """The snapshot's transaction time; the session must already be REPEATABLE READ."""
    moment: datetime = session.execute(text("SELECT now()")).scalar_one()
    return moment


def _conditions(
    table: SourceTable, *, lower: Any, upper: Any, window: tuple[datetime, datetime] | None
) -> tuple[sql.Composable, dict[str, Any]]:
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if lower is not None:
        conditions.append(sql.SQL(table.key + " > %(lower)s"))
        params["lower"] = lower
    if upper is not None:
        conditions.append(sql.SQL(table.key + " <= %(upper)s"))
        params["upper"] = upper
    if window is not None:
        if table.event_time is None:
            raise ValueError(f"{table.name} has no event time to window on")
        conditions.append(sql.SQL(f"{table.event_time} >= %(start)s AND {table.event_time} < %(end)s"))
        params["start"], params["end"] = window
    if not conditions:
        return sql.SQL(""), params
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions), params


def _driver_connection(session: Session) -> Any:
    connection = session.connection().connection.driver_connection
    if connection is None:
        raise RuntimeError("the session has no open database connection")
    return connection


def list_batch_bounds(
    session: Session, *, table: SourceTable, batch_rows: int, window: tuple[datetime, datetime] | None = None
) -> list[Any]:
    """Keys splitting the table (within an event-time window) into runs of `batch_rows` rows, in key order.

    The key of every `batch_rows`-th row: batch N holds the keys in (bound N-1, bound N], and a
    last batch holds what follows the last bound.
    """
    where, params = _conditions(table, lower=None, upper=None, window=window)
    statement = sql.SQL(
        "SELECT key FROM (SELECT {key} AS key, row_number() OVER (ORDER BY {key}) AS position FROM {source}{where}) k"
        " WHERE position %% %(batch_rows)s = 0 ORDER BY key"
    ).format(key=sql.SQL(table.key), source=sql.SQL(table.from_clause), where=where)
    with _driver_connection(session).cursor() as cursor:
        return [row[0] for row in cursor.execute(statement, {**params, "batch_rows": batch_rows})]


def copy_range(
    session: Session,
    *,
    table: SourceTable,
    lower: Any = None,
    upper: Any = None,
    window: tuple[datetime, datetime] | None = None,
) -> bytes:
    """The rows with `lower < key <= upper` (open where None) within an event-time window, in key order, as CSV."""
    where, params = _conditions(table, lower=lower, upper=upper, window=window)
    select = sql.SQL("SELECT {columns} FROM {source}{where} ORDER BY {key}").format(
        columns=sql.SQL(", ").join(sql.SQL(expression) for expression in table.columns.values()),
        source=sql.SQL(table.from_clause),
        where=where,
        key=sql.SQL(table.key),
    )
    statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv)").format(select)
    with _driver_connection(session).cursor() as cursor, cursor.copy(statement, params) as copy:
        return b"".join(bytes(block) for block in copy)


def list_event_days(session: Session, *, table: SourceTable, since: datetime | None) -> dict[date, int]:
    """Rows per UTC day of the table's event time, from `since` on (every day when None)."""
    if table.event_time is None:
        raise ValueError(f"{table.name} has no event time")
    day = f"({table.event_time} AT TIME ZONE 'UTC')::date"
    where = f" WHERE {table.event_time} >= :since" if since is not None else ""
    statement = text(f"SELECT {day} AS dt, count(*) FROM {table.from_clause}{where} GROUP BY 1 ORDER BY 1")
    rows = session.execute(statement, {"since": since} if since is not None else {}).all()
    return {row[0]: int(row[1]) for row in rows}
