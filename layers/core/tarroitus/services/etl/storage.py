"""Parquet partitions on S3, committed by manifest.

Layout: `<prefix>/<table>/dt=YYYY-MM-DD/part-NNNN-<run>.parquet` plus, per partition,
`_manifest.json` listing the data files and their row counts. A partition is written as:

1. every data file, under names unique to the run (nothing existing is overwritten);
2. `_manifest.json` (one PUT, atomic): from here on readers see the new files;
3. `<prefix>/<table>/_symlink_format_manifest/dt=.../manifest`, the same list as S3 URIs, which is
   what the Glue tables point Athena at (SymlinkTextInputFormat), so Athena shares the commit point;
4. every other object in the partition folder (the previous run's files, and files of a run that
   failed before its manifest) is deleted.

Readers trust only manifested files, so a run that dies between 1 and 2 leaves the previous
partition intact. Only the ETL job imports this module (it needs polars).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
from botocore.exceptions import ClientError

from tarroitus.errors import TarroitusError
from tarroitus.services.etl.frames import PARQUET_COMPRESSION, TABLE_SCHEMAS, frame_from_parquet, parquet_bytes
from tarroitus.services.etl.location import MANIFEST_NAME, ParquetLocation

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MANIFEST_VERSION = 1
PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"
#: Reads of a partition that a concurrent rewrite may pull the files from under.
READ_ATTEMPTS = 3


class ManifestMismatchError(TarroitusError):
    """A manifested data file does not hold the rows its manifest promises."""

    code = "manifest_mismatch"


@dataclass(frozen=True)
class ManifestFile:
    """One data file of a partition."""

    key: str
    rows: int
    bytes: int


@dataclass(frozen=True)
class Manifest:
    """The committed content of one partition."""

    table: str
    dt: date
    run_token: str
    written_at: datetime
    files: tuple[ManifestFile, ...]

    @property
    def row_count(self) -> int:
        """Rows over all files."""
        return sum(item.rows for item in self.files)

    @property
    def byte_count(self) -> int:
        """Bytes over all files."""
        return sum(item.bytes for item in self.files)

    def to_json(self) -> bytes:
        """The manifest document."""
        document = {
            "version": MANIFEST_VERSION,
            "table": self.table,
            "dt": self.dt.isoformat(),
            "run_token": self.run_token,
            "written_at": self.written_at.isoformat(),
            "format": "parquet",
            "compression": PARQUET_COMPRESSION,
            "columns": {name: str(dtype) for name, dtype in TABLE_SCHEMAS[self.table].items()},
            "row_count": self.row_count,
            "files": [{"key": item.key, "rows": item.rows, "bytes": item.bytes} for item in self.files],
        }
        return json.dumps(document, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Manifest":
        """Parse a manifest document."""
        document: dict[str, Any] = json.loads(data)
        return cls(
            table=str(document["table"]),
            dt=date.fromisoformat(document["dt"]),
            run_token=str(document["run_token"]),
            written_at=datetime.fromisoformat(document["written_at"]),
            files=tuple(
                ManifestFile(key=str(item["key"]), rows=int(item["rows"]), bytes=int(item["bytes"]))
                for item in document["files"]
            ),
        )


@dataclass
class PartitionWriter:
    """Writes one partition's data files, then commits them with the manifest (see the module docstring)."""

    s3: "S3Client"
    location: ParquetLocation
    table: str
    dt: date
    run_token: str
    files: list[ManifestFile] = field(default_factory=list)

    def write(self, frame: pl.DataFrame) -> None:
        """Upload one frame as the next data file (empty frames are skipped)."""
        if frame.height == 0:
            return
        if frame.schema != TABLE_SCHEMAS[self.table]:
            raise ValueError(f"frame does not match the {self.table} schema")
        body = parquet_bytes(frame)
        folder = self.location.partition_prefix(self.table, self.dt)
        key = f"{folder}part-{len(self.files):04d}-{self.run_token}.parquet"
        self.s3.put_object(Bucket=self.location.bucket, Key=key, Body=body, ContentType=PARQUET_CONTENT_TYPE)
        self.files.append(ManifestFile(key=key, rows=frame.height, bytes=len(body)))

    def commit(self) -> Manifest:
        """Publish the written files: manifest, Athena symlink manifest, then delete everything else."""
        manifest = Manifest(
            table=self.table,
            dt=self.dt,
            run_token=self.run_token,
            written_at=datetime.now(UTC),
            files=tuple(self.files),
        )
        bucket = self.location.bucket
        manifest_key = self.location.manifest_key(self.table, self.dt)
        self.s3.put_object(Bucket=bucket, Key=manifest_key, Body=manifest.to_json(), ContentType="application/json")
        symlinks = "".join(self.location.uri(item.key) + "\n" for item in manifest.files)
        self.s3.put_object(Bucket=bucket, Key=self.location.symlink_key(self.table, self.dt), Body=symlinks.encode())
        keep = {item.key for item in manifest.files} | {manifest_key}
        existing = list_keys(self.s3, bucket, self.location.partition_prefix(self.table, self.dt))
        delete_keys(self.s3, bucket, [key for key in existing if key not in keep])
        return manifest


def list_keys(s3: "S3Client", bucket: str, prefix: str) -> Iterator[str]:
    """Every key under `prefix`."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


def delete_keys(s3: "S3Client", bucket: str, keys: list[str]) -> None:
    """Delete `keys`, a thousand per request."""
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True})


def read_manifest(s3: "S3Client", location: ParquetLocation, *, table: str, dt: date) -> Manifest | None:
    """The partition's committed manifest, or None when the partition was never committed."""
    try:
        response = s3.get_object(Bucket=location.bucket, Key=location.manifest_key(table, dt))
    except ClientError as exc:
        if _is_missing(exc):
            return None
        raise
    return Manifest.from_json(response["Body"].read())


def read_partition(s3: "S3Client", location: ParquetLocation, *, table: str, dt: date) -> pl.DataFrame:
    """The rows of one partition, from its manifested files only (empty when never committed).

    A rewrite of the partition may delete the files of the manifest just read; the read then
    starts over from the new manifest.
    """
    for _ in range(READ_ATTEMPTS - 1):
        try:
            return _read_manifested(s3, location, table=table, dt=dt)
        except ClientError as exc:
            if not _is_missing(exc):
                raise
    return _read_manifested(s3, location, table=table, dt=dt)


def _read_manifested(s3: "S3Client", location: ParquetLocation, *, table: str, dt: date) -> pl.DataFrame:
    manifest = read_manifest(s3, location, table=table, dt=dt)
    frames = [pl.DataFrame(schema=TABLE_SCHEMAS[table])]
    for item in manifest.files if manifest else ():
        frame = frame_from_parquet(s3.get_object(Bucket=location.bucket, Key=item.key)["Body"].read())
        if frame.height != item.rows:
            raise ManifestMismatchError(f"{item.key} holds {frame.height} rows, its manifest says {item.rows}")
        frames.append(frame)
    return pl.concat(frames, how="vertical")


def _is_missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}


def list_partitions(s3: "S3Client", location: ParquetLocation, *, table: str) -> list[date]:
    """The days of a table that have a committed manifest, oldest first."""
    days = []
    for key in list_keys(s3, location.bucket, location.table_prefix(table)):
        folder, _, name = key.rpartition("/")
        partition = folder.rpartition("/")[2]
        if name == MANIFEST_NAME and partition.startswith("dt="):
            days.append(date.fromisoformat(partition.removeprefix("dt=")))
    return sorted(days)
