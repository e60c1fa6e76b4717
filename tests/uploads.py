"""Builders of sync-agent upload files (gzip TSV as the legacy agent sends it, and Parquet), and readers that
take a whole file through the streaming readers the endpoints use."""

import gzip
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tarroitus.services.overrides import Record, mapping_records
from tarroitus.services.sync.item_mapping import ItemRow, LegacyRows
from tarroitus.services.sync.uploads import DEFAULT_INFLATED_LIMIT, LegacyUploadReader, read_parquet, read_tsv
from tarroitus.services.upload_streams import InflatedSize

LEGACY_HEADER = (
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
    "classification",
    "shelfmark_json",
)


def shelfmark_json(author: str) -> str:
    """A shelfmark_json value with one 100 ind1=1 heading, rendered the way field agents do (Python literal)."""
    rows = [
        {"marc_tag": "100", "marc_ind1": "1", "marc_ind2": " ", "field_type_code": "a", "tag": "a", "content": author}
    ]
    return repr(rows)


def legacy_row(item_record_id: int, **cells: Any) -> dict[str, Any]:
    """One legacy row with plausible values for every column."""
    row: dict[str, Any] = {
        "item_record_id": item_record_id,
        "item_number": f"i{item_record_id}",
        "barcode": f"3123400{item_record_id:07d}",
        "bib_record_id": 3_000_000 + item_record_id,
        "bib_number": f"b{3_000_000 + item_record_id}",
        "best_author": "Jansson, Tove",
        "best_title": "Taikurin hattu",
        "itype_code_num": 0,
        "item_type_name": "Kirja",
        "material_code": "a",
        "material_name": "BOOK",
        "classification": "84.2",
        "shelfmark_json": shelfmark_json("Jansson, Tove"),
    }
    row.update(cells)
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if any(char in text for char in '\t\n"'):
        return '"' + text.replace('"', '""') + '"'
    return text


def legacy_tsv_gz(
    rows: Sequence[Mapping[str, Any]], header: Sequence[str] = LEGACY_HEADER, *, mtime: float | None = None
) -> bytes:
    """A gzip TSV batch with a header row, `"` quoting and empty cells for nulls (`mtime`: the gzip header's)."""
    lines = ["\t".join(header)]
    lines += ["\t".join(_cell(row.get(column)) for column in header) for row in rows]
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=mtime)


def legacy_parquet(rows: Sequence[Mapping[str, Any]], header: Sequence[str] = LEGACY_HEADER) -> bytes:
    """The same batch as a Parquet file."""
    import polars as pl

    buffer = io.BytesIO()
    pl.DataFrame({column: [row.get(column) for row in rows] for column in header}).write_parquet(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class ParsedUpload:
    """A whole upload read into item rows: the item columns it writes, its rows, the greatest id as sent."""

    columns: tuple[str, ...]
    rows: list[ItemRow]
    max_source_id: int | None


def parse_tsv_gzip(data: bytes, *, max_uncompressed_bytes: int) -> ParsedUpload:
    """A whole gzip TSV batch as item rows, read the way the upload endpoint streams it."""
    return _parsed(read_tsv(io.BytesIO(data), InflatedSize(max_uncompressed_bytes)))


def parse_parquet(data: bytes, *, max_inflated_bytes: int = DEFAULT_INFLATED_LIMIT) -> ParsedUpload:
    """A whole Parquet batch as item rows, read the way the upload endpoint streams it."""
    return _parsed(read_parquet(data, InflatedSize(max_inflated_bytes)))


def map_legacy_row(raw: Mapping[str, object]) -> ItemRow:
    """One legacy row (cells by header name) as the item row the upload stages (main entry as varFields)."""
    rows = LegacyRows(list(raw))
    return _item_row(rows.columns, rows.staged(list(raw.values())))


def read_mapping(data: bytes) -> tuple[str, list[Record]]:
    """A whole mapping file's rows by column name, with their line (CSV) or row (Parquet) numbers."""
    unit, records = mapping_records(data, InflatedSize(DEFAULT_INFLATED_LIMIT))
    return unit, list(records)


def _parsed(reader: LegacyUploadReader) -> ParsedUpload:
    rows = [_item_row(reader.columns, values[1:]) for chunk in reader.staged_chunks() for values in chunk]
    return ParsedUpload(columns=reader.columns, rows=rows, max_source_id=reader.max_source_id)


def _item_row(columns: Sequence[str], values: Sequence[object]) -> ItemRow:
    row: ItemRow = dict(zip(columns, values, strict=True))
    payload = row.get("main_entry")
    if isinstance(payload, bytes):  # jsonb's binary form: a version byte, then the JSON text
        row["main_entry"] = json.loads(payload[1:])
    return row
