"""Builders of sync-agent upload files (gzip TSV as the legacy agent sends it, and Parquet)."""

import gzip
import io
from collections.abc import Mapping, Sequence
from typing import Any

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
