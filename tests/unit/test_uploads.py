"""Parsing sync uploads: the legacy agent's gzip TSV and Parquet, with the line at fault on errors."""

import gzip
import io
from typing import Any

import polars as pl
import pytest

from tarroitus.errors import BadRequestError, PayloadTooLargeError
from tarroitus.services.sync.item_mapping import LEGACY_UPLOAD_COLUMNS
from tarroitus.services.sync.uploads import detect_format
from tests.uploads import parse_parquet, parse_tsv_gzip

LIMIT = 10_000_000
SHELFMARK = (
    '[{"marc_tag": "100", "marc_ind1": "1", "marc_ind2": " ", "field_type_code": "a", "tag": "a", '
    '"content": "Jansson, Tove"}]'
)


def tsv(lines: list[str]) -> bytes:
    """Gzip a TSV made of `lines`."""
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"))


def legacy_line(item_record_id: str, **cells: str) -> str:
    """One data line with every legacy column, empty unless given."""
    values = dict.fromkeys(LEGACY_UPLOAD_COLUMNS, "")
    values.update(item_record_id=item_record_id, **cells)
    return "\t".join(values[column] for column in LEGACY_UPLOAD_COLUMNS)


HEADER = "\t".join(LEGACY_UPLOAD_COLUMNS)


def test_parse_tsv_gzip_reads_quoted_cells_and_nulls() -> None:
    # Given
    quoted_shelfmark = '"' + SHELFMARK.replace('"', '""') + '"'
    data = tsv(
        [
            HEADER,
            legacy_line("1000001", best_title='"Muumipeikko ja pyrstötähti"', shelfmark_json=quoted_shelfmark),
            legacy_line("1000002", barcode="31234000000002", itype_code_num="22"),
        ]
    )
    # When
    parsed = parse_tsv_gzip(data, max_uncompressed_bytes=LIMIT)
    # Then
    first, second = parsed.rows
    assert first["best_title"] == "Muumipeikko ja pyrstötähti"
    assert first["signum"] == "JAN"
    assert first["barcode"] is None
    assert (second["barcode"], second["itype_code_num"], second["main_entry"]) == ("31234000000002", 22, [])
    assert parsed.max_source_id == 1000002
    assert "main_entry" in parsed.columns and "location_code" not in parsed.columns


def test_parse_tsv_gzip_names_the_bad_line_and_column() -> None:
    # Given
    data = tsv([HEADER, legacy_line("1"), legacy_line("2"), legacy_line("x3")])
    # When
    with pytest.raises(BadRequestError) as caught:
        parse_tsv_gzip(data, max_uncompressed_bytes=LIMIT)
    # Then
    assert caught.value.details[0] == {
        "line": 4,
        "column": "item_record_id",
        "message": "item_record_id must be an integer, got 'x3'",
    }
    assert "line 4" in caught.value.message


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x1f\x8b\x08\x00garbage", "not valid gzip"),
        (gzip.compress(b""), "header row is missing"),
        (gzip.compress(b"barcode\n1\n"), "no item_record_id"),
        (gzip.compress(HEADER.encode() + b"\n1\t2\n"), "expected 13 cells"),
        (gzip.compress(b"item_record_id\n1\n\xff\xfe\n"), "line 3: not valid UTF-8"),
        (gzip.compress(b'item_record_id\tbest_title\n1\t"ab"c\n'), "malformed TSV"),
        (gzip.compress(b"item_record_id\titem_record_id\n1\t1\n"), "repeated columns"),
    ],
)
def test_parse_tsv_gzip_rejects_unreadable_files(data: bytes, fragment: str) -> None:
    # Given / When
    with pytest.raises(BadRequestError) as caught:
        parse_tsv_gzip(data, max_uncompressed_bytes=LIMIT)
    # Then
    assert fragment in caught.value.message


def test_parse_tsv_gzip_refuses_a_decompression_bomb() -> None:
    # Given
    data = gzip.compress(b"item_record_id\n" + b"1\n" * 100_000)
    # When / Then
    with pytest.raises(PayloadTooLargeError):
        parse_tsv_gzip(data, max_uncompressed_bytes=1000)


def parquet(columns: dict[str, list[Any]]) -> bytes:
    """A Parquet file holding `columns`."""
    buffer = io.BytesIO()
    pl.DataFrame(columns).write_parquet(buffer)
    return buffer.getvalue()


def test_parse_parquet_reads_typed_columns() -> None:
    # Given
    data = parquet({"item_record_id": [5, 6], "classification": ["84.2", None], "shelfmark_json": [SHELFMARK, None]})
    # When
    parsed = parse_parquet(data)
    # Then
    assert [row["item_record_id"] for row in parsed.rows] == [5, 6]
    assert [row["signum"] for row in parsed.rows] == ["JAN", "***"]
    assert parsed.columns == ("item_record_id", "classification", "main_entry", "signum")


def test_parse_parquet_names_the_bad_row() -> None:
    # Given
    data = parquet({"item_record_id": [5, None, 7]})
    # When
    with pytest.raises(BadRequestError) as caught:
        parse_parquet(data)
    # Then
    assert caught.value.details[0]["row"] == 2


def test_detect_format_by_magic_bytes() -> None:
    # Given / When / Then
    assert detect_format(gzip.compress(b"x")) == "tsv.gz"
    assert detect_format(parquet({"item_record_id": [1]})) == "parquet"
    with pytest.raises(BadRequestError):
        detect_format(b"item_record_id\n1\n")
