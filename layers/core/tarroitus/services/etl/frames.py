"""Typed polars frames for the Parquet export: one explicit schema per table, CSV batches to frames.

Only the ETL job imports this module (polars lives in the analytics layer, never in the API
function). No pyarrow: polars parses the CSV and writes the Parquet itself.
"""

import io
from typing import Final

import polars as pl

TIMESTAMP = pl.Datetime("us", "UTC")


def _schema(columns: dict[str, pl.DataType]) -> pl.Schema:
    return pl.Schema(columns)


ITEMS_SCHEMA = _schema(
    {
        "item_record_id": pl.Int64(),
        "item_number": pl.String(),
        "barcode": pl.String(),
        "bib_record_id": pl.Int64(),
        "bib_number": pl.String(),
        "best_author": pl.String(),
        "best_title": pl.String(),
        "itype_code_num": pl.Int32(),
        "item_type_name": pl.String(),
        "material_code": pl.String(),
        "material_name": pl.String(),
        "location_code": pl.String(),
        "location_name": pl.String(),
        "status_code": pl.String(),
        "status_name": pl.String(),
        "call_number": pl.String(),
        "classification": pl.String(),
        "classification_override": pl.String(),
        "signum": pl.String(),
        "suppressed": pl.Boolean(),
        "deleted": pl.Boolean(),
        "deleted_at": TIMESTAMP,
        "sierra_created_at": TIMESTAMP,
        "sierra_updated_at": TIMESTAMP,
        "synced_at": TIMESTAMP,
        "print_count": pl.Int32(),
        "last_printed_at": TIMESTAMP,
        "last_printed_by": pl.String(),
        "writeback_status": pl.String(),
        "written_back_at": TIMESTAMP,
    }
)

CLIENTS_SCHEMA = _schema(
    {
        "client_id": pl.String(),
        "name": pl.String(),
        "role": pl.String(),
        "created_at": TIMESTAMP,
        "key_rotated_at": TIMESTAMP,
        "revoked_at": TIMESTAMP,
        "last_seen_at": TIMESTAMP,
        "client_version": pl.String(),
        "host_name": pl.String(),
        "printer_state": pl.String(),
    }
)

LABEL_EVENTS_SCHEMA = _schema(
    {
        "id": pl.Int64(),
        "item_record_id": pl.Int64(),
        "client_id": pl.String(),
        "classification": pl.String(),
        "signum": pl.String(),
        "printed_at": TIMESTAMP,
        "source": pl.String(),
    }
)

WRITEBACK_ATTEMPTS_SCHEMA = _schema(
    {
        "id": pl.Int64(),
        "item_record_id": pl.Int64(),
        "attempted_at": TIMESTAMP,
        "outcome": pl.String(),
        "classification": pl.String(),
        "http_status": pl.Int32(),
        "sierra_code": pl.Int32(),
        "error": pl.String(),
        "duration_ms": pl.Int32(),
    }
)

#: The Parquet schema of every exported table, by table name (the Glue tables mirror these).
TABLE_SCHEMAS: dict[str, pl.Schema] = {
    "items": ITEMS_SCHEMA,
    "clients": CLIENTS_SCHEMA,
    "label_events": LABEL_EVENTS_SCHEMA,
    "writeback_attempts": WRITEBACK_ATTEMPTS_SCHEMA,
}

PARQUET_COMPRESSION: Final = "zstd"


def wire_schema(schema: pl.Schema) -> pl.Schema:
    """The CSV column types as the database sends them: timestamps as epoch microseconds, booleans as 0/1."""
    wire: dict[str, pl.DataType] = {}
    for name, dtype in schema.items():
        if isinstance(dtype, pl.Datetime):
            wire[name] = pl.Int64()
        elif dtype == pl.Boolean:
            wire[name] = pl.Int8()
        else:
            wire[name] = dtype
    return pl.Schema(wire)


def frame_from_csv(data: bytes, schema: pl.Schema) -> pl.DataFrame:
    """Parse one headerless CSV batch from `COPY ... TO STDOUT` into a frame of exactly `schema`.

    PostgreSQL writes NULL as an empty unquoted field and the empty string as `""`; polars
    reads them back as null and "" respectively, so both survive the trip.
    """
    if not data:
        return pl.DataFrame(schema=schema)
    raw = pl.read_csv(data, has_header=False, schema=wire_schema(schema), infer_schema=False)
    return raw.with_columns(
        pl.col(name).cast(dtype) for name, dtype in schema.items() if raw.schema[name] != dtype
    ).select(schema.names())


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as one zstd-compressed Parquet file."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression=PARQUET_COMPRESSION, statistics=True)
    return buffer.getvalue()


def frame_from_parquet(data: bytes) -> pl.DataFrame:
    """Read one Parquet file from memory."""
    return pl.read_parquet(io.BytesIO(data))
