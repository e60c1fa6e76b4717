"""Where the Parquet export lives and what it holds; free of polars so the API can import it."""

from dataclasses import dataclass
from datetime import date

from tarroitus.errors import ServiceUnavailableError
from tarroitus.settings import Settings

#: Tables exported whole on every run, partitioned by the run's date.
SNAPSHOT_TABLES = ("items", "clients")
#: Tables exported by the UTC date of each row's event time.
EVENT_TABLES = ("label_events", "writeback_attempts")
EXPORTED_TABLES = SNAPSHOT_TABLES + EVENT_TABLES

MANIFEST_NAME = "_manifest.json"
SYMLINK_DIRECTORY = "_symlink_format_manifest"


@dataclass(frozen=True)
class ParquetLocation:
    """Where the Parquet lives: a bucket and a key prefix (no leading or trailing slash)."""

    bucket: str
    prefix: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "ParquetLocation":
        """The location from PARQUET_BUCKET and PARQUET_PREFIX; refuses to run without a bucket."""
        if not settings.parquet_bucket:
            raise ServiceUnavailableError("PARQUET_BUCKET is not set: the ETL has nowhere to write")
        return cls(bucket=settings.parquet_bucket, prefix=settings.parquet_prefix.strip("/"))

    def _key(self, *parts: str) -> str:
        return "/".join(part for part in (self.prefix, *parts) if part)

    def table_prefix(self, table: str) -> str:
        """The key prefix of a table's partitions, ending in a slash."""
        return self._key(table) + "/"

    def partition_prefix(self, table: str, dt: date) -> str:
        """The key prefix (folder) of one Hive partition, ending in a slash."""
        return self._key(table, f"dt={dt.isoformat()}") + "/"

    def manifest_key(self, table: str, dt: date) -> str:
        """The key of a partition's `_manifest.json`."""
        return self.partition_prefix(table, dt) + MANIFEST_NAME

    def symlink_key(self, table: str, dt: date) -> str:
        """The key of a partition's Athena symlink manifest."""
        return self._key(table, SYMLINK_DIRECTORY, f"dt={dt.isoformat()}", "manifest")

    def uri(self, key: str | None = None) -> str:
        """An s3:// URI of a key, or of the whole location (ending in a slash) when no key is given."""
        if key is None:
            return f"s3://{self.bucket}/" + (f"{self.prefix}/" if self.prefix else "")
        return f"s3://{self.bucket}/{key}"
