"""The operator's classification overrides in bulk: candidate rows staged by COPY, resolved and applied in SQL.

A mapping row names its item by `item_record_id` or by `barcode`. The rows are copied into a
temporary table chunk by chunk and resolved against `items` with set operations, so a mapping of
any length costs the database one pass and the process one chunk of memory.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import psycopg
from sqlalchemy.orm import Session

_STAGE = "_override_stage"
_RESOLVED = "_override_resolved"
_COPY = f"COPY {_STAGE} (position, item_record_id, barcode, classification) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = ("int8", "int8", "text", "text")
#: A resolved row that sets an override: it names an item, and is the first row to name it.
_USABLE = "(reason IS NULL AND position = first_position)"


class OverrideCandidate(NamedTuple):
    """A mapping row that passed its own checks: where it is, the item it names, the classification."""

    position: int
    item_record_id: int | None
    barcode: str | None
    classification: str


@dataclass(frozen=True)
class RejectedRow:
    """A mapping row that cannot be applied: where it is, what it names, and why."""

    position: int
    key: str
    reason: str


@dataclass(frozen=True)
class Resolution:
    """The staged rows resolved: how many name an item, and the first rejections by position (with their count)."""

    resolved: int
    rejected: int
    first_rejections: list[RejectedRow]


class OverrideStage:
    """The candidate rows of one mapping, in a temporary table dropped when the transaction ends."""

    def __init__(self, session: Session) -> None:
        self._connection = cast(psycopg.Connection[Any], session.connection().connection.driver_connection)
        with self._connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (position bigint, item_record_id bigint, barcode text, "
                "classification text) ON COMMIT DROP"
            )
            cursor.execute(f"TRUNCATE {_STAGE}")

    def copy(self, candidates: Sequence[OverrideCandidate]) -> None:
        """Stage `candidates`."""
        with self._connection.cursor() as cursor, cursor.copy(_COPY) as copy:
            copy.set_types(_COPY_TYPES)
            for candidate in candidates:
                copy.write_row(candidate)

    def resolve(self, *, unit: str, listed: int) -> Resolution:
        """Find each staged row's item; rows naming none, or an item an earlier row named, are rejected.

        By id: the item must exist, carry the barcode when one is given, and not be deleted. By barcode
        alone: exactly one item that is not deleted must carry it (Sierra barcodes are not unique).
        """
        with self._connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_RESOLVED}")
            cursor.execute(_RESOLVE_SQL)
            cursor.execute(
                f"SELECT count(*) FILTER (WHERE {_USABLE}), count(*) FILTER (WHERE NOT {_USABLE}) FROM {_RESOLVED}"
            )
            counts = cursor.fetchone()
            cursor.execute(
                "SELECT position, key, coalesce(reason, 'item ' || target || ' appears again (first on ' "
                f"|| %s || ' ' || first_position || ')') FROM {_RESOLVED} WHERE NOT {_USABLE} "
                "ORDER BY position LIMIT %s",
                (unit, listed),
            )
            rejections = [RejectedRow(int(position), str(key), str(reason)) for position, key, reason in cursor]
        resolved, rejected = (int(value) for value in counts) if counts else (0, 0)
        return Resolution(resolved, rejected, rejections)

    def apply(self) -> int:
        """Set the override of every resolved item in one statement; returns the items whose override changed."""
        with self._connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE items AS i SET classification_override = r.classification FROM {_RESOLVED} AS r "
                f"WHERE {_USABLE} AND i.item_record_id = r.target "
                "AND i.classification_override IS DISTINCT FROM r.classification"
            )
            return cursor.rowcount


_RESOLVE_SQL = f"""
CREATE TEMP TABLE {_RESOLVED} ON COMMIT DROP AS
WITH found AS (
    SELECT s.position, s.classification, coalesce(s.item_record_id::text, s.barcode) AS key,
        CASE
            WHEN s.item_record_id IS NOT NULL THEN CASE
                WHEN i.item_record_id IS NULL THEN 'no item ' || s.item_record_id
                WHEN s.barcode IS NOT NULL AND s.barcode IS DISTINCT FROM i.barcode
                    THEN 'item ' || s.item_record_id || ' has another barcode'
                WHEN i.deleted THEN 'item ' || s.item_record_id || ' is deleted in Sierra'
            END
            WHEN b.matches = 0 THEN 'no item with barcode ' || s.barcode
            WHEN b.matches > 1
                THEN 'barcode ' || s.barcode || ' is shared by ' || b.matches || ' items; give item_record_id'
        END AS reason,
        CASE WHEN s.item_record_id IS NOT NULL THEN i.item_record_id ELSE b.target END AS target
    FROM {_STAGE} AS s
    LEFT JOIN items AS i ON i.item_record_id = s.item_record_id
    LEFT JOIN LATERAL (
        SELECT count(*) AS matches, min(live.item_record_id) AS target FROM items AS live
        WHERE live.barcode = s.barcode AND NOT live.deleted
    ) AS b ON s.item_record_id IS NULL
)
SELECT found.*, min(position) FILTER (WHERE reason IS NULL) OVER (PARTITION BY target) AS first_position
FROM found
"""
