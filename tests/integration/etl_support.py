"""Helpers shared by the ETL integration tests: expected frames built from ORM rows, S3 listings, fakes."""

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from tarroitus.models import Client, Item, LabelEvent, WritebackAttempt, WritebackEntry
from tarroitus.services.etl.frames import TABLE_SCHEMAS
from tarroitus.services.etl.location import ParquetLocation
from tarroitus.services.etl.storage import list_partitions, read_partition

SORT_KEYS = {"items": "item_record_id", "clients": "client_id", "label_events": "id", "writeback_attempts": "id"}


def expected_frame(session: Session, table: str) -> pl.DataFrame:
    """The table as the export should write it, read through the ORM (independently of the export's SQL)."""
    records: list[dict[str, Any]]
    if table == "items":
        rows = session.execute(
            select(Item, WritebackEntry).outerjoin(WritebackEntry, WritebackEntry.item_record_id == Item.item_record_id)
        ).all()
        records = [
            {
                **{name: getattr(item, name) for name in TABLE_SCHEMAS["items"] if hasattr(Item, name)},
                "last_printed_by": str(item.last_printed_by) if item.last_printed_by else None,
                "writeback_status": entry.status.value if entry else None,
                "written_back_at": entry.completed_at if entry else None,
            }
            for item, entry in rows
        ]
    elif table == "clients":
        records = [
            {
                **{name: getattr(client, name) for name in TABLE_SCHEMAS["clients"] if hasattr(Client, name)},
                "client_id": str(client.id),
                "role": client.role.value,
            }
            for client in session.scalars(select(Client))
        ]
    elif table == "label_events":
        records = [
            {
                **{name: getattr(event, name) for name in TABLE_SCHEMAS["label_events"]},
                "client_id": str(event.client_id) if event.client_id else None,
            }
            for event in session.scalars(select(LabelEvent))
        ]
    else:
        records = [
            {name: getattr(attempt, name) for name in TABLE_SCHEMAS["writeback_attempts"]}
            for attempt in session.scalars(select(WritebackAttempt))
        ]
    frame = pl.DataFrame(records, schema=TABLE_SCHEMAS[table], orient="row")
    return frame.sort(SORT_KEYS[table])


def exported_frame(s3: Any, location: ParquetLocation, table: str, days: list[date] | None = None) -> pl.DataFrame:
    """Every manifested row of a table (or of some of its days), sorted by key."""
    frames = [
        read_partition(s3, location, table=table, dt=dt)
        for dt in (days if days is not None else list_partitions(s3, location, table=table))
    ]
    return pl.concat([pl.DataFrame(schema=TABLE_SCHEMAS[table]), *frames]).sort(SORT_KEYS[table])


def keys_under(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every object key under a prefix, sorted."""
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(keys)


class ManifestFailingS3:
    """An S3 client that uploads data files but fails on every `_manifest.json`, like a crash before the commit."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.failed_manifests = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        if str(kwargs["Key"]).endswith("/_manifest.json"):
            self.failed_manifests += 1
            raise ConnectionError("connection reset before the manifest was written")
        return self._client.put_object(**kwargs)
