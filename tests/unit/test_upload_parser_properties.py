"""Property tests: the sync upload parser and the mapping importer, fed arbitrary bytes, fail only with a clear 4xx.

Inputs range from raw bytes through gzip of random text, TSV/CSV-shaped text with hostile cells,
to real Parquet files with arbitrary column names and values, and Parquet files with bytes flipped.
"""

import io

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from tarroitus.errors import BadRequestError, TarroitusError
from tarroitus.services.sync.uploads import detect_format
from tests.hostile_files import mapping_bytes, upload_bytes
from tests.uploads import parse_parquet, parse_tsv_gzip, read_mapping

LIMIT = 1_000_000

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_client_error(exc: TarroitusError) -> None:
    """A refusal the client can act on: 4xx with a message."""
    assert 400 <= exc.status_code < 500, exc
    assert exc.message


@PROPERTY_SETTINGS
@given(upload_bytes)
def test_upload_parser_any_bytes_give_rows_or_a_4xx(data: bytes) -> None:
    # Given / When
    try:
        parsed = (
            parse_parquet(data)
            if detect_format(data) == "parquet"
            else parse_tsv_gzip(data, max_uncompressed_bytes=LIMIT)
        )
    except TarroitusError as exc:
        # Then
        assert_client_error(exc)
        return
    # Then
    assert all(row.get("item_record_id") is not None for row in parsed.rows)
    assert len(parsed.rows) <= max(1, data.count(b"\n") + 1) or data.startswith(b"PAR1")


@PROPERTY_SETTINGS
@given(mapping_bytes)
def test_mapping_reader_any_bytes_give_records_or_a_4xx(data: bytes) -> None:
    # Given / When
    try:
        unit, records = read_mapping(data)
    except TarroitusError as exc:
        # Then
        assert_client_error(exc)
        return
    # Then
    assert unit in {"line", "row"}
    assert all(isinstance(position, int) and isinstance(record, dict) for position, record in records)


def damaged_parquet() -> bytes:
    """A small Parquet file with three bytes overwritten: polars 1.x panics in Rust reading it."""
    buffer = io.BytesIO()
    pl.DataFrame({"item_record_id": [1, 2, 3], "barcode": ["a", "b", "c"]}).write_parquet(buffer)
    data = bytearray(buffer.getvalue())
    for position, value in [(213, 5), (533, 18), (161, 122)]:
        data[position % len(data)] = value
    return bytes(data)


def test_parquet_that_panics_polars_is_a_400_for_uploads_and_mappings() -> None:
    # Given
    data = damaged_parquet()
    # When / Then
    with pytest.raises(BadRequestError) as upload_error:
        parse_parquet(data)
    with pytest.raises(BadRequestError) as mapping_error:
        read_mapping(data)
    assert (upload_error.value.code, mapping_error.value.code) == ("bad_parquet", "bad_mapping")


def test_mapping_columns_equal_but_for_case_and_spaces_are_a_400() -> None:
    # Given
    buffer = io.BytesIO()
    pl.DataFrame({"classification": ["84.2"], "Classification ": ["99.9"], "barcode": ["x"]}).write_parquet(buffer)
    # When / Then
    with pytest.raises(BadRequestError, match="names a column twice"):
        read_mapping(buffer.getvalue())
