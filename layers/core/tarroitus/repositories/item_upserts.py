"""Bulk writes of synced items: binary COPY into a temporary table, then one INSERT ... ON CONFLICT per write.

Rows of ids that no item holds yet (a first full sync's pages) skip the temporary table: they are
copied straight into `items`.

Only the columns a sync source knows are written; label state (print counts, last print) and the
operator's classification override are never in those lists, so no sync can overwrite them. An
update happens only when a synced column really changed (`IS DISTINCT FROM`), so re-running a sync
leaves rows, their `synced_at` and their tuple versions as they were.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from operator import itemgetter
from typing import Any, cast

import psycopg
from psycopg.types.string import BytesBinaryDumper
from sqlalchemy import text
from sqlalchemy.orm import Session

from tarroitus.repositories.item_columns import copy_type

#: The item's and its bib's columns that every sync source sends as they are to be stored (the primary key
#: first); the legacy agent's TSV starts with them, in this order.
RECORD_COLUMNS: tuple[str, ...] = (
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
)
#: Every column a sync source may write, in COPY order.
SYNC_COLUMNS: tuple[str, ...] = (
    *RECORD_COLUMNS,
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
_JSONB_VERSION = b"\x01"
_STAGE = "_item_upsert_stage"
_BIB_STAGE = "_bib_update_stage"
_COPY_CONTEXT = re.compile(r"^COPY \S+, line (?P<line>\d+)(?:, column (?P<column>\w+))?", re.MULTILINE)
_MAX_MESSAGE = 200
#: A staged row's key: its item_record_id, after its position.
_KEY = itemgetter(1)
_POSITION = itemgetter(0)


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


class StagedRowError(ValueError):
    """PostgreSQL refused a staged row (or the merge): `position` is the row's position as staged, when known."""

    def __init__(self, message: str, *, position: int | None, column: str | None) -> None:
        super().__init__(message)
        self.position = position
        self.column = column


class ItemStage:
    """One bulk write of items: rows copied into a temporary table (binary COPY, chunk by chunk), merged once.

    Each staged row is its position, then its values in `columns` order, `main_entry` as its
    `jsonb_payload`.
    When a key repeats, the row with the greatest position wins. Everything happens in the session's
    transaction, so nothing is visible until it commits, and a refused row rolls it all back.
    """

    def __init__(self, session: Session, columns: Sequence[str] = SYNC_COLUMNS) -> None:
        self.columns = _checked_columns(columns)
        self.received = 0
        # Keys staged in strictly ascending order cannot repeat: a sync page and a sorted upload need no count.
        self._ascending = True
        self._last_key: Any = None
        self._connection = _driver_connection(session)
        self._copy_sql = f"COPY {_STAGE} (ord, {', '.join(self.columns)}) FROM STDIN (FORMAT BINARY)"
        self._copy_types = ["int8", *_copy_types(self.columns)]
        with self._connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DROP AS "
                f"SELECT 0::bigint AS ord, {', '.join(SYNC_COLUMNS)} FROM items WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {_STAGE}")

    def copy(self, rows: Sequence[Sequence[Any]]) -> None:
        """Stage `rows`; a value PostgreSQL cannot hold raises StagedRowError naming the row's position."""
        with self._connection.cursor() as cursor, _refusals(self.columns, list(map(_POSITION, rows))):
            _copy_rows(cursor, self._copy_sql, self._copy_types, rows)
        self.received += len(rows)
        if self._ascending and rows:
            self._ascending = self._keys_ascend(list(map(_KEY, rows)))

    def _keys_ascend(self, keys: list[Any]) -> bool:
        """Whether `keys` continue the keys staged so far in strictly ascending order."""
        if self._last_key is not None:
            keys.insert(0, self._last_key)
        self._last_key = keys[-1]
        return _ascending(keys)

    def merge(self) -> UpsertCounts:
        """Insert or update every staged key in one statement: only rows whose synced columns changed.

        Keys are counted first (a hash of the ids alone): only a stage that repeats a key pays for
        sorting its rows to keep the last of each.
        """
        if self.received == 0:
            return UpsertCounts()
        with self._connection.cursor() as cursor, _refusals(self.columns):
            distinct = self.received if self._ascending else self._distinct_keys(cursor)
            cursor.execute(_upsert_sql(self.columns, repeated=distinct < self.received))
            row = cursor.fetchone()
        inserted, written = (int(value) for value in row) if row else (0, 0)
        return UpsertCounts(received=self.received, distinct=distinct, inserted=inserted, updated=written - inserted)

    @staticmethod
    def _distinct_keys(cursor: psycopg.Cursor[Any]) -> int:
        cursor.execute(f"SELECT count(*) FROM (SELECT FROM {_STAGE} GROUP BY item_record_id) AS k")
        found = cursor.fetchone()
        return int(found[0]) if found else 0


def upsert_items(
    session: Session, *, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] = SYNC_COLUMNS
) -> UpsertCounts:
    """Insert or update items in bulk, writing only `columns`; the last row of a repeated key wins.

    Rows whose keys ascend over a range that holds no item yet (a page of a first full sync) are
    copied straight into `items`; any other rows go through the stage and its merge.
    """
    checked = _checked_columns(columns)
    listed = list(rows)
    if _copied_as_new(_driver_connection(session), listed, checked):
        return UpsertCounts(received=len(listed), distinct=len(listed), inserted=len(listed))
    stage = ItemStage(session, checked)
    stage.copy(list(_values(listed, checked, numbered=True)))
    return stage.merge()


def commit_without_flush(session: Session) -> None:
    """Let the session's current transaction commit without waiting for its WAL to be flushed to disk.

    Only this transaction is affected. A later transaction that does wait flushes this one's WAL too.
    """
    session.execute(text("SET LOCAL synchronous_commit = off"))


def update_bib_columns(session: Session, *, bibs: Iterable[Mapping[str, Any]]) -> int:
    """Write each bib's derived columns onto its items that are not deleted; returns the items changed.

    A deleted item's row stays as it was when it was deleted.
    """
    stage_columns = ("bib_record_id", *BIB_COLUMNS)
    connection = _driver_connection(session)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_BIB_STAGE} ON COMMIT DROP AS "
            f"SELECT {', '.join(stage_columns)} FROM items WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {_BIB_STAGE}")
        values = list(_values(bibs, stage_columns))
        if not values:
            return 0
        copy_sql = f"COPY {_BIB_STAGE} ({', '.join(stage_columns)}) FROM STDIN (FORMAT BINARY)"
        _copy_rows(cursor, copy_sql, _copy_types(stage_columns), values)
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


def _copied_as_new(
    connection: psycopg.Connection[Any], rows: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> bool:
    """COPY rows straight into `items` when their keys ascend and no item lies in their range.

    False, with nothing written, for any other rows. The range check and the COPY are not one step: a
    key another transaction inserts in between fails the COPY, which rolls back to its savepoint and
    leaves the rows to the merge. Rows are encoded as the COPY sends them, so PostgreSQL inserts the
    first while the rest are encoded.
    """
    keys: list[Any] = [row.get("item_record_id") for row in rows]
    if not keys or not _ascending(keys):
        return False
    with connection.cursor() as cursor:
        if not _no_item_between(cursor, keys[0], keys[-1]):
            return False
        copy_sql = f"COPY items ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with _refusals(columns, range(len(rows))):
            try:
                with connection.transaction():
                    _copy_rows(cursor, copy_sql, _copy_types(columns), _values(rows, columns))
            except psycopg.errors.UniqueViolation:
                return False
    return True


def _no_item_between(cursor: psycopg.Cursor[Any], first: int, last: int) -> bool:
    """Whether `items` holds no key from `first` to `last` (one probe of the primary key)."""
    cursor.execute("SELECT NOT EXISTS (SELECT FROM items WHERE item_record_id BETWEEN %s AND %s)", (first, last))
    found = cursor.fetchone()
    return bool(found and found[0])


def _ascending(keys: Sequence[Any]) -> bool:
    """Whether `keys` ascend strictly (False when one is missing)."""
    try:
        return all(earlier < later for earlier, later in pairwise(keys))
    except TypeError:  # a missing key, which the merge refuses
        return False


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


def jsonb_payload(json_text: str) -> bytes:
    """A JSON value as a binary COPY sends it to a jsonb column: format version 1, then the text in UTF-8."""
    return _JSONB_VERSION + json_text.encode()


def _copy_types(columns: Sequence[str]) -> list[str]:
    """The types `columns` are sent as: JSON columns as bytes, already in jsonb's binary form (`jsonb_payload`).

    The server reads a binary COPY field by the column's own type, so the payload arrives as jsonb; sent
    as bytes it passes psycopg's C dumper untouched instead of a Python jsonb dumper call per row.
    """
    return ["bytea" if column in _JSON_COLUMNS else copy_type(column) for column in columns]


def _values(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, numbered: bool = False
) -> Iterator[list[Any]]:
    """Each row's values in `columns` order (after its position when `numbered`), JSON columns as `jsonb_payload`.

    Rows of one bib share its main entry object, so each distinct object is serialised once.
    """
    pick = _picker(columns)
    offset = 1 if numbered else 0
    json_positions = [offset + position for position, column in enumerate(columns) if column in _JSON_COLUMNS]
    serialised: dict[int, bytes] = {}
    for position, row in enumerate(rows):
        try:
            picked = pick(row)
        except KeyError:
            picked = tuple(map(row.get, columns))
        values = [position, *picked] if numbered else [*picked]
        for json_position in json_positions:
            value = values[json_position]
            if value is not None:
                payload = serialised.get(id(value))
                if payload is None:
                    payload = serialised[id(value)] = jsonb_payload(json.dumps(value, ensure_ascii=False))
                values[json_position] = payload
        yield values


def _picker(columns: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function taking a row's values in `columns` order as a tuple (KeyError for a missing column)."""
    if len(columns) == 1:
        column = columns[0]
        return lambda row: (row[column],)
    return itemgetter(*columns)


def _copy_rows(cursor: psycopg.Cursor[Any], copy_sql: str, types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    # The bytea dumper registered last (DB-API's `Binary`) is Python; the plain bytes dumper is psycopg's C one.
    cursor.adapters.register_dumper(bytes, BytesBinaryDumper)
    with cursor.copy(copy_sql) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


@contextmanager
def _refusals(columns: Sequence[str], positions: Sequence[int] = ()) -> Iterator[None]:
    """Turn PostgreSQL refusing a value into StagedRowError, with the position of a COPY's row (`positions`)."""
    try:
        yield
    except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
        line, column = _copy_position(exc.diag.context)
        position = positions[line - 1] if line is not None and 0 < line <= len(positions) else None
        column = column or exc.diag.column_name
        message = (exc.diag.message_primary or type(exc).__name__)[:_MAX_MESSAGE]
        raise StagedRowError(message, position=position, column=column if column in columns else None) from exc


def _copy_position(context: str | None) -> tuple[int | None, str | None]:
    """The row (1-based) and column of a COPY error's context line, e.g. `COPY t, line 3, column barcode: "..."`."""
    found = _COPY_CONTEXT.search(context or "")
    if found is None:
        return None, None
    return int(found["line"]), found["column"]


def _changed(target: str, source: str, columns: Sequence[str]) -> str:
    left = ", ".join(f"{target}.{column}" for column in columns)
    right = ", ".join(f"{source}.{column}" for column in columns)
    return f"({left}) IS DISTINCT FROM ({right})"


def _upsert_sql(columns: Sequence[str], *, repeated: bool) -> str:
    listed = ", ".join(columns)
    updated = [column for column in columns if column != "item_record_id"]
    assignments = ", ".join(f"{column} = excluded.{column}" for column in updated)
    source = f"SELECT {listed} FROM {_STAGE}"
    if repeated:
        source = f"SELECT DISTINCT ON (item_record_id) {listed} FROM {_STAGE} ORDER BY item_record_id, ord DESC"
    return (
        f"WITH written AS (INSERT INTO items AS i ({listed}, synced_at) SELECT {listed}, now() FROM ({source}) AS s "
        f"ON CONFLICT (item_record_id) DO UPDATE SET {assignments}, synced_at = excluded.synced_at "
        f"WHERE {_changed('i', 'excluded', updated)} "
        "RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FROM written"
    )
