"""Partition writes and reads on a moto S3 server, without the database."""

from datetime import date
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from tarroitus.services.etl.frames import LABEL_EVENTS_SCHEMA
from tarroitus.services.etl.location import ParquetLocation
from tarroitus.services.etl.storage import PartitionWriter, read_manifest, read_partition
from tests import moto_fixtures
from tests.moto_fixtures import S3Bucket

moto_server = moto_fixtures.moto_server
s3_bucket = moto_fixtures.s3_bucket

DAY = date(2026, 3, 9)


def events(first_id: int, count: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": range(first_id, first_id + count),
            "item_record_id": [7] * count,
            "client_id": [None] * count,
            "classification": ["84.2"] * count,
            "signum": ["KIV"] * count,
            "printed_at": [None] * count,
            "source": ["api"] * count,
        },
        schema=LABEL_EVENTS_SCHEMA,
    )


def write(s3: Any, location: ParquetLocation, run: str, *frames: pl.DataFrame) -> None:
    writer = PartitionWriter(s3=s3, location=location, table="label_events", dt=DAY, run_token=run)
    for frame in frames:
        writer.write(frame)
    writer.commit()


class RewriteDuringRead:
    """Rewrites the partition the moment a reader first fetches a data file, as a concurrent ETL run would."""

    def __init__(self, client: Any, location: ParquetLocation, replacement: pl.DataFrame) -> None:
        self._client = client
        self._location = location
        self._replacement = replacement
        self.rewrites = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_object(self, **kwargs: Any) -> Any:
        if kwargs["Key"].endswith(".parquet") and not self.rewrites:
            self.rewrites += 1
            write(self._client, self._location, "second", self._replacement)
        return self._client.get_object(**kwargs)


def test_partition_writer_commit_replaces_the_previous_files(s3_bucket: S3Bucket) -> None:
    # Given
    location = ParquetLocation(bucket=s3_bucket.name, prefix="p")
    write(s3_bucket.client, location, "first", events(1, 3), events(4, 2))
    # When
    write(s3_bucket.client, location, "second", events(10, 1))
    # Then
    manifest = read_manifest(s3_bucket.client, location, table="label_events", dt=DAY)
    assert manifest is not None and [f.rows for f in manifest.files] == [1]
    listed = s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name, Prefix="p/label_events/dt=2026-03-09/")
    assert sorted(item["Key"] for item in listed["Contents"]) == sorted(
        [manifest.files[0].key, "p/label_events/dt=2026-03-09/_manifest.json"]
    )


def test_read_partition_starts_over_when_a_rewrite_removes_its_files(s3_bucket: S3Bucket) -> None:
    # Given a committed partition, and a rewrite that lands while it is being read
    location = ParquetLocation(bucket=s3_bucket.name, prefix="p")
    write(s3_bucket.client, location, "first", events(1, 3))
    reader = RewriteDuringRead(s3_bucket.client, location, events(20, 2))
    # When
    frame = read_partition(reader, location, table="label_events", dt=DAY)
    # Then
    assert reader.rewrites == 1
    assert_frame_equal(frame, events(20, 2))


def test_read_partition_of_an_uncommitted_day_is_empty(s3_bucket: S3Bucket) -> None:
    # Given data files without a manifest
    location = ParquetLocation(bucket=s3_bucket.name, prefix="p")
    PartitionWriter(s3=s3_bucket.client, location=location, table="label_events", dt=DAY, run_token="x").write(
        events(1, 4)
    )
    # When
    frame = read_partition(s3_bucket.client, location, table="label_events", dt=DAY)
    # Then
    assert frame.height == 0 and frame.schema == LABEL_EVENTS_SCHEMA
