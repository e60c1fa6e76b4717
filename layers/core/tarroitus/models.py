"""ORM models: the whole operational schema (items, labels, writeback queue, clients, job state)."""

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tarroitus.db import Base
from tarroitus.domain import ClientRole, SyncMode, WritebackStatus
from tarroitus.migrations.generated_columns import REPRINT_NEEDED_0005


def _enum(enum_class: type[enum.StrEnum], name: str) -> Enum:
    return Enum(enum_class, name=name, values_callable=lambda members: [member.value for member in members])


class Item(Base):
    """One Sierra item record, with the new classification, signum and label state derived from its bib."""

    __tablename__ = "items"
    # Keyed on the id so the stale labels are listed in the item list's order straight from this index.
    __table_args__ = (Index("ix_items_reprint_needed", "item_record_id", postgresql_where=text("reprint_needed")),)

    item_record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    item_number: Mapped[str | None] = mapped_column(String(32))
    barcode: Mapped[str | None] = mapped_column(String(64), index=True)
    bib_record_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    bib_number: Mapped[str | None] = mapped_column(String(32))
    best_author: Mapped[str | None] = mapped_column(Text)
    best_title: Mapped[str | None] = mapped_column(Text)
    itype_code_num: Mapped[int | None] = mapped_column(Integer)
    item_type_name: Mapped[str | None] = mapped_column(Text)
    material_code: Mapped[str | None] = mapped_column(String(16))
    material_name: Mapped[str | None] = mapped_column(Text)
    location_code: Mapped[str | None] = mapped_column(String(16))
    location_name: Mapped[str | None] = mapped_column(Text)
    status_code: Mapped[str | None] = mapped_column(String(8))
    status_name: Mapped[str | None] = mapped_column(Text)
    call_number: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(Text)
    classification_override: Mapped[str | None] = mapped_column(Text)
    signum: Mapped[str | None] = mapped_column(String(8))
    main_entry: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sierra_created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sierra_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    print_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_printed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_printed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    last_printed_classification: Mapped[str | None] = mapped_column(Text)
    last_printed_signum: Mapped[str | None] = mapped_column(String(8))
    # An item needs a reprint when the label on the book (its last print) no longer shows the classification or
    # signum it would be printed with now. Only printed, live items with a classification to print qualify. The
    # classification is the override, else the bib's 097, blank counting as none; a missing signum prints as the
    # marker "***" (services.signum.SIGNUM_MARKER; every sync source stores a signum with its main entry).
    # PostgreSQL recomputes it whenever a row is written (sync, override, print), so it cannot drift.
    reprint_needed: Mapped[bool] = mapped_column(Boolean, Computed(REPRINT_NEEDED_0005, persisted=True))


class Client(Base):
    """A registered API client: a label printer station, a sync agent or an administrator."""

    __tablename__ = "clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[ClientRole] = mapped_column(_enum(ClientRole, "client_role"))
    key_id: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    key_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    client_version: Mapped[str | None] = mapped_column(String(64))
    host_name: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    printer_state: Mapped[str | None] = mapped_column(String(255))


class LabelEvent(Base):
    """One printed label: what was printed, for which item, by which client and when."""

    __tablename__ = "label_events"
    __table_args__ = (
        UniqueConstraint("client_id", "idempotency_key", name="uq_label_events_client_idempotency_key"),
        Index("ix_label_events_printed_at", "printed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    item_record_id: Mapped[int] = mapped_column(ForeignKey("items.item_record_id"), index=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    classification: Mapped[str] = mapped_column(Text)
    signum: Mapped[str] = mapped_column(String(8))
    printed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    source: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the request first sent under `idempotency_key`: the same key with another request is refused.
    request_sha256: Mapped[str | None] = mapped_column(String(64))


class WritebackEntry(Base):
    """An item's place in the writeback queue; kept apart from `items` so a sync never touches it."""

    __tablename__ = "writeback_queue"
    __table_args__ = (
        Index("ix_writeback_queue_claimable", "status", "next_attempt_at"),
        CheckConstraint("attempts >= 0", name="ck_writeback_queue_attempts"),
    )

    item_record_id: Mapped[int] = mapped_column(ForeignKey("items.item_record_id"), primary_key=True)
    status: Mapped[WritebackStatus] = mapped_column(_enum(WritebackStatus, "writeback_status"))
    classification: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    sierra_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Parts of the write (call_number, inventory_date, internal_use) Sierra holds and refused, as of the last attempt.
    written_parts: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default=text("'{}'"))
    refused_parts: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default=text("'{}'"))


class WritebackAttempt(Base):
    """One try at writing an item back to Sierra, successful or not."""

    __tablename__ = "writeback_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    item_record_id: Mapped[int] = mapped_column(ForeignKey("items.item_record_id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    classification: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    sierra_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # Parts of the write this attempt landed in Sierra, and those Sierra refused (HTTP 400).
    written_parts: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default=text("'{}'"))
    refused_parts: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default=text("'{}'"))


class JobState(Base):
    """Per-job state: sync mode and cursors, the last run's outcome, and the lease against overlaps."""

    __tablename__ = "job_state"

    job_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[SyncMode | None] = mapped_column(_enum(SyncMode, "sync_mode"))
    initialized_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    full_sync_cursor: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    full_sync_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    full_sync_completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changes_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_outcome: Mapped[str | None] = mapped_column(String(32))
    last_run_counts: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JobRun(Base):
    """The history of job runs, newest last, for the status view."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job_name", "started_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(32), default="running", server_default="running")
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)


class SyncUpload(Base):
    """An uploaded sync batch, by content hash, so a repeated upload is recognised."""

    __tablename__ = "sync_uploads"

    content_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_count: Mapped[int] = mapped_column(Integer)
    file_format: Mapped[str] = mapped_column(String(16))


# --- Analytics: the Parquet partition registry and the aggregates the /analytics endpoints serve ---
# Written only by the ETL job. Aggregate tables are small and replaced wholesale (or per day) in
# one transaction, so the API reads finished figures and never scans the operational tables.


class EtlPartition(Base):
    """One committed Parquet partition on S3 (mirrors its `_manifest.json`), for the data status view."""

    __tablename__ = "etl_partitions"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    dt: Mapped[date] = mapped_column(Date, primary_key=True)
    row_count: Mapped[int] = mapped_column(BigInteger)
    file_count: Mapped[int] = mapped_column(Integer)
    byte_count: Mapped[int] = mapped_column(BigInteger)
    manifest_key: Mapped[str] = mapped_column(Text)
    run_token: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AnalyticsProgress(Base):
    """Items in the collection, labelled and written back, per location and item type."""

    __tablename__ = "analytics_progress"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    location_code: Mapped[str | None] = mapped_column(String(16))
    location_name: Mapped[str | None] = mapped_column(Text)
    itype_code_num: Mapped[int | None] = mapped_column(Integer)
    item_type_name: Mapped[str | None] = mapped_column(Text)
    items_total: Mapped[int] = mapped_column(Integer)
    items_labelled: Mapped[int] = mapped_column(Integer)
    items_written_back: Mapped[int] = mapped_column(Integer)
    items_reprint_needed: Mapped[int] = mapped_column(Integer)


class AnalyticsWritebackDaily(Base):
    """Writeback attempts per UTC day: successes and failures."""

    __tablename__ = "analytics_writeback_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    succeeded: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    items: Mapped[int] = mapped_column(Integer)


class AnalyticsWritebackError(Base):
    """Failed writeback attempts per UTC day and Sierra error code (with HTTP status and a sample message)."""

    __tablename__ = "analytics_writeback_errors"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    sierra_code: Mapped[int | None] = mapped_column(Integer)
    http_status: Mapped[int | None] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class AnalyticsClassification(Base):
    """Printed labels per classification."""

    __tablename__ = "analytics_classifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    classification: Mapped[str] = mapped_column(Text, index=True)
    labels: Mapped[int] = mapped_column(Integer)


class AnalyticsStationThroughput(Base):
    """Per printer station: labels, active days and hours, the busiest hour, first and last print."""

    __tablename__ = "analytics_station_throughput"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    client_name: Mapped[str | None] = mapped_column(String(120))
    labels: Mapped[int] = mapped_column(Integer)
    active_days: Mapped[int] = mapped_column(Integer)
    active_hours: Mapped[int] = mapped_column(Integer)
    busiest_hour_labels: Mapped[int] = mapped_column(Integer)
    first_printed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_printed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
