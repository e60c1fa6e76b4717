"""Hypothesis strategies for hostile files: raw bytes, gzip of junk, TSV/CSV-shaped text with hostile cells,
real Parquet files with arbitrary columns and values, and Parquet files with bytes overwritten.
"""

import gzip
import io
from typing import Any

import polars as pl
from hypothesis import strategies as st

from tarroitus.services.sync.item_mapping import LEGACY_UPLOAD_COLUMNS

#: Names that differ only in case and spaces, which readers normalise (and may then find twice).
MAPPING_COLUMNS = ["item_record_id", "ITEM_RECORD_ID", "barcode", " Barcode", "classification", "Classification "]

cell = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", '"', '""', "\t", "\n", "\r\n", "\x00", "-1", "9" * 30, "1.5", "NaN", "[]", "{", "null", "\\N"]
)
column_names = st.sampled_from(MAPPING_COLUMNS) | st.sampled_from(LEGACY_UPLOAD_COLUMNS) | st.text(max_size=10)


def lines_of(delimiter: str) -> st.SearchStrategy[str]:
    """A header of plausible column names and rows of hostile cells, joined with `delimiter`."""
    row = st.lists(cell, max_size=len(LEGACY_UPLOAD_COLUMNS) + 2).map(delimiter.join)
    header = st.lists(column_names, min_size=1, max_size=len(LEGACY_UPLOAD_COLUMNS) + 1).map(delimiter.join)
    return st.builds(lambda head, rows: "\n".join([head, *rows]), header, st.lists(row, max_size=5))


values = st.none() | st.integers() | st.floats() | st.booleans() | st.text(max_size=10)


@st.composite
def parquet_files(draw: st.DrawFn) -> bytes:
    """A real Parquet file: arbitrary column names, each column of one arbitrary value type."""
    names = draw(st.lists(column_names, min_size=1, max_size=6, unique=True))
    length = draw(st.integers(0, 4))
    kinds = [st.integers(-(2**63), 2**63 - 1), st.floats(), st.booleans(), st.text(max_size=10)]
    columns: dict[str, Any] = {}
    for name in names:
        kind = draw(st.sampled_from(kinds))
        columns[name] = draw(st.lists(st.none() | kind, min_size=length, max_size=length))
    buffer = io.BytesIO()
    pl.DataFrame(columns, strict=False).write_parquet(buffer)
    return buffer.getvalue()


@st.composite
def damaged_parquet_files(draw: st.DrawFn) -> bytes:
    """A Parquet file with some of its bytes overwritten."""
    data = bytearray(draw(parquet_files()))
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


upload_bytes = (
    st.binary(max_size=512)
    | st.binary(max_size=256).map(lambda raw: b"\x1f\x8b" + raw)
    | st.binary(max_size=256).map(lambda raw: b"PAR1" + raw)
    | st.text(max_size=300).map(lambda text: gzip.compress(text.encode("utf-8", "surrogatepass")))
    | lines_of("\t").map(lambda text: gzip.compress(text.encode("utf-8", "surrogatepass")))
    | parquet_files()
    | damaged_parquet_files()
)
mapping_bytes = (
    upload_bytes
    | lines_of(",").map(lambda text: text.encode("utf-8", "surrogatepass"))
    | lines_of(";").map(lambda text: text.encode("utf-8", "surrogatepass"))
)
