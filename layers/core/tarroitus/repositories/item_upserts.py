"""Bulk writes of synced items: COPY into a temporary table, then one INSERT ... ON CONFLICT per batch.

Only the columns a sync source knows are written; label state (print counts, last print) and the
operator's classification override are never in those lists, so no sync can overwrite them. An
update happens only when a synced column really changed (`IS DISTINCT FROM`), so re-running a sync
leaves rows, their `synced_at` and their tuple versions as they were.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlalchemy.orm import Session

#: Every column a sync source may write, in COPY order (the primary key first).
SYNC_COLUMNS: tuple[str, ...] = (
    "item_record_id",
    "item_number",
    "barcode",
    "bib_record_id",
    "bib_number",
    "best_author",
    "best_title",
    "itype_code_num",
    "item_type_name",
    "material_code",
    "material_name",
    "location_code",
    "location_name",
    "status_code",
    "status_name",
    "call_number",
    "classification",
    "signum",
    "main_entry",
    "suppressed",
    "deleted",
    "deleted_at",
    "sierra_created_at",
    "sierra_updated_at",
)
#: The columns that come from an item's bib; a bib change re-writes these on all its items.
BIB_COLUMNS: tuple[str, ...] = (
    "bib_number",
    "best_author",
    "best_title",
    "material_code",
    "material_name",
    "classification",
    "signum",
    "main_entry",
)
_JSON_COLUMNS = frozenset({"main_entry"})
_STAGE = "_item_upsert_stage"
_BIB_STAGE = "_bib_update_stage"


@dataclass(frozen=True)
class UpsertCounts:
    """What one bulk write did: rows received, distinct keys, rows inserted, rows changed."""

    received: int = 0
    distinct: int = 0
    inserted: int = 0
    updated: int = 0

    @property
    def unchanged(self) -> int:
        """Distinct keys whose stored row already matched."""
        return self.distinct - self.inserted - self.updated


def upsert_items(
    session: Session, *, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] = SYNC_COLUMNS
) -> UpsertCounts:
    """Insert or update items in bulk, writing only `columns`; the last row of a repeated key wins."""
    columns = _checked_columns(columns)
    connection = _driver_connection(session)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DROP AS "
            f"SELECT 0::bigint AS ord, {', '.join(SYNC_COLUMNS)} FROM items WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {_STAGE}")
        keys: set[Any] = set()
        received = _copy_rows(cursor, _STAGE, ("ord", *columns), _numbered(rows, columns, keys))
        if received == 0:
            return UpsertCounts()
        cursor.execute(_upsert_sql(columns))
        row = cursor.fetchone()
    inserted, written = (int(row[0]), int(row[1])) if row else (0, 0)
    return UpsertCounts(received=received, distinct=len(keys), inserted=inserted, updated=written - inserted)


def update_bib_columns(session: Session, *, bibs: Iterable[Mapping[str, Any]]) -> int:
    """Write each bib's derived columns onto its items that are not deleted; returns the items changed.

    A deleted item's row stays as it was when it was deleted.
    """
    connection = _driver_connection(session)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_BIB_STAGE} ON COMMIT DROP AS "
            f"SELECT bib_record_id, {', '.join(BIB_COLUMNS)} FROM items WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {_BIB_STAGE}")
        stage_columns = ("bib_record_id", *BIB_COLUMNS)
        to_values = _row_values(stage_columns)
        received = _copy_rows(cursor, _BIB_STAGE, stage_columns, (to_values(bib) for bib in bibs))
        if received == 0:
            return 0
        assignments = ", ".join(f"{column} = b.{column}" for column in BIB_COLUMNS)
        cursor.execute(
            f"UPDATE items AS i SET {assignments}, synced_at = now() "
            f"FROM (SELECT DISTINCT ON (bib_record_id) * FROM {_BIB_STAGE}) AS b "
            f"WHERE i.bib_record_id = b.bib_record_id AND NOT i.deleted AND {_changed('i', 'b', BIB_COLUMNS)}"
        )
        return cursor.rowcount


def mark_items_deleted(session: Session, *, deletions: Iterable[tuple[int, datetime | None]]) -> int:
    """Flag items deleted in Sierra (unknown ones are recorded as deleted stubs); returns rows changed.

    Everything else on the row, label history included, stays as it was.
    """
    ids: list[int] = []
    dates: list[datetime | None] = []
    for item_record_id, deleted_at in dict(deletions).items():
        ids.append(item_record_id)
        dates.append(deleted_at)
    if not ids:
        return 0
    connection = _driver_connection(session)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO items AS i (item_record_id, deleted, deleted_at) "
            "SELECT id, true, deleted_at FROM unnest(%s::bigint[], %s::timestamptz[]) AS d(id, deleted_at) "
            "ON CONFLICT (item_record_id) DO UPDATE SET deleted = true, deleted_at = excluded.deleted_at, "
            "synced_at = now() "
            "WHERE NOT i.deleted OR i.deleted_at IS DISTINCT FROM excluded.deleted_at",
            (ids, dates),
        )
        return cursor.rowcount


def _checked_columns(columns: Sequence[str]) -> tuple[str, ...]:
    unknown = [column for column in columns if column not in SYNC_COLUMNS]
    if unknown:
        raise ValueError(f"Not sync columns: {', '.join(unknown)}")
    rest = tuple(dict.fromkeys(column for column in columns if column != "item_record_id"))
    if not rest:
        raise ValueError("An upsert needs at least one column besides item_record_id")
    return ("item_record_id", *rest)


def _driver_connection(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection under the session's current transaction (COPY needs the driver)."""
    return cast(psycopg.Connection[Any], session.connection().connection.driver_connection)


def _numbered(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], keys: set[Any]) -> Iterable[list[Any]]:
    """Each row's values after its position (the last of a repeated key wins); collects the keys seen."""
    to_values = _row_values(columns)
    for number, row in enumerate(rows):
        values = to_values(row)
        keys.add(values[0])
        values.insert(0, number)
        yield values


def _row_values(columns: Sequence[str]) -> Callable[[Mapping[str, Any]], list[Any]]:
    """A function giving a row's values in `columns` order, JSON columns serialised for COPY."""
    json_positions = [position for position, column in enumerate(columns) if column in _JSON_COLUMNS]

    def values(row: Mapping[str, Any]) -> list[Any]:
        found = list(map(row.get, columns))
        for position in json_positions:
            if found[position] is not None:
                found[position] = json.dumps(found[position], ensure_ascii=False)
        return found

    return values


def _copy_rows(cursor: psycopg.Cursor[Any], table: str, columns: Sequence[str], values: Iterable[Sequence[Any]]) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
            count += 1
    return count


def _changed(target: str, source: str, columns: Sequence[str]) -> str:
    left = ", ".join(f"{target}.{column}" for column in columns)
    right = ", ".join(f"{source}.{column}" for column in columns)
    return f"({left}) IS DISTINCT FROM ({right})"


def _upsert_sql(columns: Sequence[str]) -> str:
    listed = ", ".join(columns)
    updated = [column for column in columns if column != "item_record_id"]
    assignments = ", ".join(f"{column} = excluded.{column}" for column in updated)
    return (
        f"WITH written AS (INSERT INTO items AS i ({listed}, synced_at) "
        f"SELECT DISTINCT ON (item_record_id) {listed}, now() FROM {_STAGE} ORDER BY item_record_id, ord DESC "
        f"ON CONFLICT (item_record_id) DO UPDATE SET {assignments}, synced_at = excluded.synced_at "
        f"WHERE {_changed('i', 'excluded', updated)} "
        "RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FROM written"
    )
