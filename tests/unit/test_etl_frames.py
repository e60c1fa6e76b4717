"""The rows -> polars transform, Parquet bytes, manifests and S3 keys: pure functions, no I/O."""

import io
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tarroitus.repositories.etl_source import SOURCE_TABLES
from tarroitus.services.etl.frames import (
    CLIENTS_SCHEMA,
    LABEL_EVENTS_SCHEMA,
    TABLE_SCHEMAS,
    TIMESTAMP,
    frame_from_csv,
    frame_from_parquet,
    parquet_bytes,
    wire_schema,
)
from tarroitus.services.etl.location import EXPORTED_TABLES, ParquetLocation
from tarroitus.services.etl.storage import Manifest, ManifestFile

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_frame_from_csv_keeps_nulls_apart_from_empty_strings() -> None:
    # Given: PostgreSQL CSV writes NULL unquoted and the empty string as ""
    data = b'1,5,,"",,1700000000000000,api\n2,6,00000000-0000-0000-0000-000000000001,x,"",1700000000123456,\n'
    # When
    frame = frame_from_csv(data, LABEL_EVENTS_SCHEMA)
    # Then
    assert frame["client_id"].to_list() == [None, "00000000-0000-0000-0000-000000000001"]
    assert frame["classification"].to_list() == ["", "x"]
    assert frame["signum"].to_list() == [None, ""]
    assert frame["source"].to_list() == ["api", None]


def test_frame_from_csv_reads_quotes_newlines_commas_and_unicode() -> None:
    # Given
    title = 'He said "hi", then\nleft — Война и мир, Åland\\'
    data = ('1,5,,"' + title.replace('"', '""') + '",S,1,api\n').encode()
    # When
    frame = frame_from_csv(data, LABEL_EVENTS_SCHEMA)
    # Then
    assert frame["classification"].to_list() == [title]


def test_frame_from_csv_converts_epoch_microseconds_and_flags() -> None:
    # Given
    schema = pl.Schema({"at": TIMESTAMP, "flag": pl.Boolean(), "n": pl.Int32()})
    moment = datetime(2026, 3, 9, 23, 59, 59, 999999, tzinfo=UTC)
    micros = int(moment.timestamp()) * 1_000_000 + moment.microsecond
    # When
    frame = frame_from_csv(f"{micros},1,7\n,0,\n".encode(), schema)
    # Then
    assert frame.schema == schema
    assert frame.rows() == [(moment, True, 7), (None, False, None)]


def test_frame_from_csv_of_no_rows_is_an_empty_frame_of_the_schema() -> None:
    # Given / When
    frame = frame_from_csv(b"", CLIENTS_SCHEMA)
    # Then
    assert frame.height == 0
    assert frame.schema == CLIENTS_SCHEMA


def test_wire_schema_sends_timestamps_and_booleans_as_integers() -> None:
    # Given / When
    wire = wire_schema(pl.Schema({"at": TIMESTAMP, "flag": pl.Boolean(), "name": pl.String()}))
    # Then
    assert wire == pl.Schema({"at": pl.Int64(), "flag": pl.Int8(), "name": pl.String()})


@pytest.mark.parametrize("table", EXPORTED_TABLES)
def test_source_columns_match_the_polars_schema(table: str) -> None:
    # Given / When / Then: the COPY output is positional, so names and order must agree
    assert list(SOURCE_TABLES[table].columns) == TABLE_SCHEMAS[table].names()


def test_clients_schema_has_no_key_material() -> None:
    # Given / When
    columns = set(TABLE_SCHEMAS["clients"].names()) | set(SOURCE_TABLES["clients"].columns)
    expressions = " ".join(SOURCE_TABLES["clients"].columns.values())
    # Then
    assert not {"key_hash", "key_id", "ip_address"} & columns
    assert "key_hash" not in expressions and "key_id" not in expressions and "ip_address" not in expressions


def test_parquet_bytes_round_trip_with_zstd() -> None:
    # Given
    frame = pl.DataFrame(
        {"id": [1, 2], "printed_at": [datetime(2026, 1, 1, tzinfo=UTC), None]},
        schema={"id": pl.Int64(), "printed_at": TIMESTAMP},
    )
    # When
    data = parquet_bytes(frame)
    # Then
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1"
    assert_frame_equal(frame_from_parquet(data), frame)
    assert pl.read_parquet_schema(io.BytesIO(data)) == dict(frame.schema)


def test_manifest_round_trips_through_json() -> None:
    # Given
    manifest = Manifest(
        table="label_events",
        dt=date(2026, 3, 9),
        run_token="20260314T030000-abcd",
        written_at=datetime(2026, 3, 14, 3, tzinfo=UTC),
        files=(ManifestFile(key="p/label_events/dt=2026-03-09/part-0000-x.parquet", rows=5, bytes=900),),
    )
    # When
    parsed = Manifest.from_json(manifest.to_json())
    # Then
    assert parsed == manifest
    assert parsed.row_count == 5


@pytest.mark.parametrize(("prefix", "expected"), [("tarroitus", "tarroitus/"), ("/a/b/", "a/b/"), ("", "")])
def test_parquet_location_builds_hive_keys(prefix: str, expected: str) -> None:
    # Given
    location = ParquetLocation(bucket="bucket", prefix=prefix.strip("/"))
    # When / Then
    assert location.partition_prefix("items", date(2026, 3, 9)) == f"{expected}items/dt=2026-03-09/"
    assert location.manifest_key("items", date(2026, 3, 9)) == f"{expected}items/dt=2026-03-09/_manifest.json"
    assert location.symlink_key("items", date(2026, 3, 9)) == (
        f"{expected}items/_symlink_format_manifest/dt=2026-03-09/manifest"
    )
    assert location.uri() == f"s3://bucket/{expected}"


def test_api_import_path_loads_no_polars() -> None:
    # Given: the API function ships without the analytics layer
    probe = "import sys, functions.api.handler; print('polars' in sys.modules)"
    # When
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"ENV": "test", "PATH": ""},
        cwd=PROJECT_ROOT,
    )
    # Then
    assert result.stdout.strip() == "False"
