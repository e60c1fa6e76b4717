"""Sierra items and bibs (REST API v6 JSON) and legacy sync-agent rows, as rows for the bulk item upsert.

Pure functions: no I/O. A row is a dict keyed by `repositories.item_upserts.SYNC_COLUMNS` names.

How each column is derived from Sierra:

- `item_number`, `bib_number`: ``i``/``b`` + record number + Sierra's check digit (digits weighted
  2, 3, 4... from the right, sum mod 11, 10 written ``x``), without the leading ``.`` Sierra shows.
- `barcode`: the item's `barcode`, else its varField ``b``; blank counts as none.
- `itype_code_num`: fixed field 61 (I TYPE) value; `item_type_name`: `itemType`, else that field's display.
- `location_*`, `status_*`: `location {code,name}` and `status {code,display}`.
- `call_number`: `callNumber` with the subfield markers removed and subfields joined by a space
  (``|a84.2|hHEI`` -> ``84.2 HEI``), else the item's varField ``c``, read the same way.
- `best_author`, `best_title`, `material_*`: the bib's `author`, `title`, `materialType {code,value}`.
- `classification`: the bib's MARC 097 (`classification_from_var_fields`); `main_entry`: the bib's
  100/110/111/130/245 varFields, kept so the signum can be recomputed; `signum`: `compute_signum` of them.
- Without a bib the bib columns are null; the sync then writes only the item columns
  (`sync_pages.ITEM_ONLY_COLUMNS`), so an item whose bib cannot be read keeps its stored bib columns.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import call, itemgetter
from typing import Any

from tarroitus.repositories.item_columns import column_limits
from tarroitus.repositories.item_upserts import BIB_COLUMNS, RECORD_COLUMNS, SYNC_COLUMNS, jsonb_payload
from tarroitus.services.signum import (
    ShelfmarkParseError,
    classification_from_var_fields,
    compute_signum,
    parse_shelfmark_json,
)

ItemRow = dict[str, Any]

#: MARC tags whose varFields the signum is computed from.
MAIN_ENTRY_MARC_TAGS = frozenset({"100", "110", "111", "130", "245"})
ITEM_TYPE_FIXED_FIELD = "61"
#: The columns of the legacy sync agent's TSV (LEGACY_API.md), in its order.
LEGACY_UPLOAD_COLUMNS: tuple[str, ...] = (*RECORD_COLUMNS, "classification", "shelfmark_json")
_LEGACY_INT_COLUMNS = frozenset({"item_record_id", "bib_record_id", "itype_code_num"})
_LEGACY_TEXT_COLUMNS = tuple(
    column for column in LEGACY_UPLOAD_COLUMNS if column not in _LEGACY_INT_COLUMNS and column != "shelfmark_json"
)
#: Sierra's database ids are the record number plus the record type's letter shifted 32 bits left.
_DATABASE_ID_TYPES = {"item_record_id": "i", "bib_record_id": "b"}
_RECORD_NUMBER_BITS = 32
_SUBFIELD_MARKER = re.compile(r"\|[a-z0-9]")
_INTEGER = re.compile(r"-?[0-9]+")
_MAX_INT = 2**63 - 1
#: `\u0000` in JSON text not preceded by an escaping backslash.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
_SYNC_COLUMN_SET = frozenset(SYNC_COLUMNS)
#: Distinct main entries a legacy upload keeps parsed (with their signums).
MAIN_ENTRY_CACHE_SIZE = 4096


class RowError(ValueError):
    """One upload row cannot be used; `column` names the cell at fault (None for the whole row)."""

    def __init__(self, message: str, *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


def check_digit(record_number: int) -> str:
    """Sierra's check digit of a record number: weights 2, 3, 4... from the right, mod 11, 10 -> ``x``."""
    total = sum(int(digit) * weight for weight, digit in enumerate(reversed(str(record_number)), start=2))
    remainder = total % 11
    return "x" if remainder == 10 else str(remainder)


def record_number(record_type: str, record_id: int) -> str:
    """The record number Sierra shows for an id, e.g. ``i10000008`` for item 1000000."""
    return f"{record_type}{record_id}{check_digit(record_id)}"


def record_id_of(sierra_id: int, record_type: str) -> int | None:
    """The record number of a Sierra id given either way: a record number as it is, a database id (record
    number + type letter << 32, as the sync agent reads them from SierraDNA) as its low 32 bits. None for a
    negative id or another record type's database id."""
    if sierra_id < 0:
        return None
    high, low = divmod(sierra_id, 1 << _RECORD_NUMBER_BITS)
    if high == 0:
        return sierra_id
    return low if high == ord(record_type) else None


def is_deleted(item: Mapping[str, Any]) -> bool:
    """True for an item entry Sierra reports as deleted."""
    return bool(item.get("deleted")) or item.get("deletedDate") is not None


def deletion_of(item: Mapping[str, Any]) -> tuple[int, datetime | None]:
    """A deleted item's id and the moment it was deleted (Sierra gives a day: midnight UTC)."""
    return int(item["id"]), _as_datetime(item.get("deletedDate"))


def first_bib_id(item: Mapping[str, Any]) -> int | None:
    """The id of the item's bib (`bibIds[0]`), or None."""
    bib_ids = item.get("bibIds") or []
    return int(bib_ids[0]) if bib_ids else None


def main_entry_of(var_fields: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The varFields the signum is computed from (MARC 100/110/111/130/245), in record order."""
    return [dict(field) for field in var_fields or () if str(field.get("marcTag") or "") in MAIN_ENTRY_MARC_TAGS]


def map_bib(bib: Mapping[str, Any]) -> dict[str, Any]:
    """The bib-derived columns (`BIB_COLUMNS`) of a Sierra bib, keyed also by `bib_record_id`."""
    var_fields = bib.get("varFields") or []
    main_entry = main_entry_of(var_fields)
    material = bib.get("materialType") or {}
    bib_id = int(bib["id"])
    return {
        "bib_record_id": bib_id,
        "bib_number": record_number("b", bib_id),
        "best_author": _text(bib.get("author")),
        "best_title": _text(bib.get("title")),
        "material_code": _text(material.get("code")),
        "material_name": _text(material.get("value")),
        "classification": classification_from_var_fields(var_fields),
        "signum": compute_signum(main_entry),
        "main_entry": main_entry,
    }


def map_sierra_item(item: Mapping[str, Any], bib: Mapping[str, Any] | None) -> ItemRow:
    """The row of a (not deleted) Sierra item and its bib; every `SYNC_COLUMNS` key is set."""
    return map_item(item, map_bib(bib) if bib is not None else None)


def map_item(item: Mapping[str, Any], bib_columns: Mapping[str, Any] | None) -> ItemRow:
    """Like `map_sierra_item`, with the bib already mapped by `map_bib` (bibs are shared by many items)."""
    item_id = int(item["id"])
    location = item.get("location") or {}
    status = item.get("status") or {}
    item_type = (item.get("fixedFields") or {}).get(ITEM_TYPE_FIXED_FIELD) or {}
    row: ItemRow = {
        **(bib_columns if bib_columns is not None else dict.fromkeys(BIB_COLUMNS)),
        "item_record_id": item_id,
        "item_number": record_number("i", item_id),
        "barcode": _text(item.get("barcode")) or _var_field_text(item, "b"),
        "bib_record_id": first_bib_id(item),
        "itype_code_num": _optional_int(item_type.get("value")),
        "item_type_name": _text(item.get("itemType")) or _text(item_type.get("display")),
        "location_code": _text(location.get("code")),
        "location_name": _text(location.get("name")),
        "status_code": _text(status.get("code")),
        "status_name": _text(status.get("display")),
        "call_number": _call_number(item.get("callNumber")) or _var_field_text(item, "c"),
        "suppressed": bool(item.get("suppressed")),
        "deleted": False,
        "deleted_at": None,
        "sierra_created_at": _as_datetime(item.get("createdDate")),
        "sierra_updated_at": _as_datetime(item.get("updatedDate")),
    }
    if row.keys() == _SYNC_COLUMN_SET:  # map_bib's columns: the row is complete as it is
        return row
    return {column: row.get(column) for column in SYNC_COLUMNS}


def legacy_columns(header: Sequence[str]) -> tuple[str, ...]:
    """The item columns an upload with this header writes (shelfmark_json gives main_entry and signum)."""
    present = set(header)
    if "item_record_id" not in present:
        raise RowError("the header has no item_record_id column", column="item_record_id")
    columns = [column for column in LEGACY_UPLOAD_COLUMNS if column in present and column != "shelfmark_json"]
    if "shelfmark_json" in present:
        columns += ["main_entry", "signum"]
    return tuple(columns)


@dataclass(frozen=True)
class MainEntry:
    """A legacy row's main entry: its varFields as a `jsonb_payload` and the signum computed from them."""

    payload: bytes
    signum: str


class LegacyRows:
    """Rows of one legacy upload (cells in header order: TSV text or typed Parquet values) as item values.

    `columns` are the item columns the upload writes (`legacy_columns`). Each cell is checked against
    what its item column can hold (`item_columns.column_limits`: length, integer range, no NUL), so a
    row PostgreSQL would refuse is a RowError naming the column. The main entry is parsed and its
    signum computed once per distinct `shelfmark_json` cell among the last MAIN_ENTRY_CACHE_SIZE: items
    of one bib share it.
    """

    def __init__(self, header: Sequence[str]) -> None:
        self.columns = legacy_columns(header)
        position = {name: index for index, name in enumerate(header)}
        cell_columns = [column for column in self.columns if column in LEGACY_UPLOAD_COLUMNS]
        self._converters = [_legacy_converter(column) for column in cell_columns]
        self._pick = _picker([position[column] for column in cell_columns])
        self._shelfmark = position.get("shelfmark_json")
        self._main_entry = lru_cache(maxsize=MAIN_ENTRY_CACHE_SIZE)(_legacy_main_entry)

    def staged(self, cells: Sequence[object]) -> list[object]:
        """The row's values in `columns` order, the main entry as its jsonb payload (what the item stage takes)."""
        values, entry = self._convert(cells)
        if entry is not None:
            values += (entry.payload, entry.signum)
        return values

    def _convert(self, cells: Sequence[object]) -> tuple[list[object], MainEntry | None]:
        values = list(map(call, self._converters, self._pick(cells)))
        if values[0] is None:
            raise RowError("item_record_id is empty", column="item_record_id")
        if self._shelfmark is None:
            return values, None
        raw = cells[self._shelfmark]
        return values, self._main_entry(raw if raw is None or isinstance(raw, str) else str(raw))


def _picker(positions: list[int]) -> Callable[[Sequence[object]], Sequence[object]]:
    """A function taking a row's cells at `positions`, in that order, as a sequence."""
    if len(positions) == 1:
        return lambda cells: (cells[positions[0]],)
    return itemgetter(*positions)


def _legacy_converter(column: str) -> Callable[[object], object]:
    limits = column_limits(column)
    if column not in _LEGACY_INT_COLUMNS:
        return _text_converter(column, limits.max_length)
    lowest = limits.min_value if limits.min_value is not None else -_MAX_INT
    highest = limits.max_value if limits.max_value is not None else _MAX_INT
    return _int_converter(column, _DATABASE_ID_TYPES.get(column), lowest, highest)


def _int_converter(column: str, record_type: str | None, lowest: int, highest: int) -> Callable[[object], int | None]:
    """A cell's integer (a Sierra database id as its record number) within `lowest..highest`, or None when empty."""

    def convert(value: object) -> int | None:
        number: int | None
        if isinstance(value, str) and value.isascii() and value.isdigit():
            number = int(value)
        else:
            number = _legacy_int(value, column)
            if number is None:
                return None
        if record_type is not None:
            number = _record_number_from_database_id(number, record_type, column)
        if not lowest <= number <= highest:
            raise RowError(f"{column} {number} is outside {lowest}..{highest}", column=column)
        return number

    return convert


def _legacy_int(value: object, column: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RowError(f"{column} must be an integer, got {type(value).__name__}", column=column)
    text = str(value).strip()
    if not _INTEGER.fullmatch(text) or abs(int(text)) > _MAX_INT:
        raise RowError(f"{column} must be an integer, got {text[:40]!r}", column=column)
    return int(text)


def _record_number_from_database_id(number: int, record_type: str, column: str) -> int:
    if number < 0:
        raise RowError(f"{column} must not be negative", column=column)
    record_id = record_id_of(number, record_type)
    if record_id is None:
        raise RowError(f"{column} {number} is not a Sierra {record_type} record id", column=column)
    return record_id


def _text_converter(column: str, max_length: int | None) -> Callable[[object], str | None]:
    """A cell's text, stripped (None when blank), at most `max_length` characters and without NUL."""

    def convert(value: object) -> str | None:
        if not isinstance(value, str):
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RowError(f"{column} must be text, got {type(value).__name__}", column=column)
            value = str(value)
        text = value.strip()
        if not text:
            return None
        if max_length is not None and len(text) > max_length:
            raise RowError(f"{column} is longer than {max_length} characters ({len(text)})", column=column)
        if "\x00" in text:
            raise RowError(f"{column} contains a NUL character", column=column)
        return text

    return convert


def _legacy_main_entry(value: str | None) -> MainEntry:
    try:
        fields = [] if value is None else parse_shelfmark_json(value)
    except ShelfmarkParseError as exc:
        raise RowError(str(exc), column="shelfmark_json") from exc
    text = json.dumps(fields, ensure_ascii=False)
    # json.dumps writes a NUL as the escape \u0000, which JSONB refuses: a literal backslash is written \\.
    if _NUL_ESCAPE.search(text):
        raise RowError("shelfmark_json contains a NUL character", column="shelfmark_json")
    return MainEntry(jsonb_payload(text), compute_signum(fields))


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _optional_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()) and abs(int(value)) <= _MAX_INT:
        return int(value)
    return None


def _call_number(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return _text(" ".join(part.strip() for part in _SUBFIELD_MARKER.split(value) if part.strip()))


def _var_field_text(item: Mapping[str, Any], field_tag: str) -> str | None:
    for field in item.get("varFields") or ():
        if field.get("fieldTag") != field_tag:
            continue
        subfields = field.get("subfields")
        if subfields:
            return _text(" ".join(str(sub.get("content") or "").strip() for sub in subfields))
        return _text(field.get("content"))
    return None


def _as_datetime(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))  # a day alone ("2023-05-06") reads as its midnight
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
