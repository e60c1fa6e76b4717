"""Initial schema: items, clients, label events, writeback queue and attempts, job state, uploads."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tarroitus.migrations.columns import count, create_table_keyed_by_id, timestamp, timestamp_of_insert

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.Enum("printer", "sync", "admin", name="client_role"), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        timestamp_of_insert("created_at"),
        timestamp("key_rotated_at"),
        timestamp("revoked_at"),
        timestamp("last_seen_at"),
        sa.Column("client_version", sa.String(length=64), nullable=True),
        sa.Column("host_name", sa.String(length=255), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("printer_state", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
        sa.UniqueConstraint("name"),
    )
    create_table_keyed_by_id(
        "job_runs",
        sa.Column("job_name", sa.String(length=64), nullable=False),
        timestamp_of_insert("started_at"),
        timestamp("finished_at"),
        sa.Column("outcome", sa.String(length=32), server_default="running", nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_job_runs_job_started", "job_runs", ["job_name", "started_at"], unique=False)
    op.create_table(
        "job_state",
        sa.Column("job_name", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.Enum("full", "changes", name="sync_mode"), nullable=True),
        timestamp_of_insert("initialized_at"),
        sa.Column("full_sync_cursor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        timestamp("full_sync_started_at"),
        timestamp("full_sync_completed_at"),
        timestamp("changes_since"),
        timestamp("last_run_started_at"),
        timestamp("last_run_completed_at"),
        sa.Column("last_run_outcome", sa.String(length=32), nullable=True),
        sa.Column("last_run_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        timestamp("lease_expires_at"),
        sa.PrimaryKeyConstraint("job_name"),
    )
    op.create_table(
        "items",
        sa.Column("item_record_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_number", sa.String(length=32), nullable=True),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("bib_record_id", sa.BigInteger(), nullable=True),
        sa.Column("bib_number", sa.String(length=32), nullable=True),
        sa.Column("best_author", sa.Text(), nullable=True),
        sa.Column("best_title", sa.Text(), nullable=True),
        sa.Column("itype_code_num", sa.Integer(), nullable=True),
        sa.Column("item_type_name", sa.Text(), nullable=True),
        sa.Column("material_code", sa.String(length=16), nullable=True),
        sa.Column("material_name", sa.Text(), nullable=True),
        sa.Column("location_code", sa.String(length=16), nullable=True),
        sa.Column("location_name", sa.Text(), nullable=True),
        sa.Column("status_code", sa.String(length=8), nullable=True),
        sa.Column("status_name", sa.Text(), nullable=True),
        sa.Column("call_number", sa.Text(), nullable=True),
        sa.Column("classification", sa.Text(), nullable=True),
        sa.Column("classification_override", sa.Text(), nullable=True),
        sa.Column("signum", sa.String(length=8), nullable=True),
        sa.Column("main_entry", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("suppressed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        timestamp("deleted_at"),
        timestamp("sierra_created_at"),
        timestamp("sierra_updated_at"),
        timestamp_of_insert("synced_at"),
        sa.Column("print_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        timestamp("last_printed_at"),
        sa.Column("last_printed_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["last_printed_by"], ["clients.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("item_record_id"),
    )
    op.create_index(op.f("ix_items_barcode"), "items", ["barcode"], unique=False)
    op.create_index(op.f("ix_items_bib_record_id"), "items", ["bib_record_id"], unique=False)
    op.create_index(op.f("ix_items_sierra_updated_at"), "items", ["sierra_updated_at"], unique=False)
    op.create_table(
        "sync_uploads",
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        timestamp_of_insert("received_at"),
        count("row_count"),
        sa.Column("file_format", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("content_sha256"),
    )
    create_table_keyed_by_id(
        "label_events",
        sa.Column("item_record_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("classification", sa.Text(), nullable=False),
        sa.Column("signum", sa.String(length=8), nullable=False),
        timestamp_of_insert("printed_at"),
        sa.Column("source", sa.String(length=16), server_default="api", nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["item_record_id"], ["items.item_record_id"]),
        sa.UniqueConstraint("client_id", "idempotency_key", name="uq_label_events_client_idempotency_key"),
    )
    op.create_index(op.f("ix_label_events_client_id"), "label_events", ["client_id"], unique=False)
    op.create_index(op.f("ix_label_events_item_record_id"), "label_events", ["item_record_id"], unique=False)
    op.create_index("ix_label_events_printed_at", "label_events", ["printed_at"], unique=False)
    create_table_keyed_by_id(
        "writeback_attempts",
        sa.Column("item_record_id", sa.BigInteger(), nullable=False),
        timestamp_of_insert("attempted_at"),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("classification", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("sierra_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["item_record_id"], ["items.item_record_id"]),
    )
    op.create_index(op.f("ix_writeback_attempts_attempted_at"), "writeback_attempts", ["attempted_at"], unique=False)
    op.create_index(
        op.f("ix_writeback_attempts_item_record_id"), "writeback_attempts", ["item_record_id"], unique=False
    )
    op.create_table(
        "writeback_queue",
        sa.Column("item_record_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Enum("queued", "in_progress", "done", "dead", name="writeback_status"), nullable=False),
        sa.Column("classification", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        timestamp_of_insert("queued_at"),
        timestamp_of_insert("next_attempt_at"),
        timestamp("claimed_at"),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        timestamp("completed_at"),
        sa.Column("last_error_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        timestamp("sierra_updated_at"),
        sa.CheckConstraint("attempts >= 0", name="ck_writeback_queue_attempts"),
        sa.ForeignKeyConstraint(["item_record_id"], ["items.item_record_id"]),
        sa.PrimaryKeyConstraint("item_record_id"),
    )
    op.create_index("ix_writeback_queue_claimable", "writeback_queue", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    # A table's indexes are dropped with it.
    for table in (
        "writeback_queue",
        "writeback_attempts",
        "label_events",
        "sync_uploads",
        "items",
        "job_state",
        "job_runs",
        "clients",
    ):
        op.drop_table(table)
    for enum_name in ("writeback_status", "sync_mode", "client_role"):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
