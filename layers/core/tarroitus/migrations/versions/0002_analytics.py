"""Analytics: the Parquet partition registry and the aggregate tables behind /api/v1/analytics.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "etl_partitions",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("dt", sa.Date(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("byte_count", sa.BigInteger(), nullable=False),
        sa.Column("manifest_key", sa.Text(), nullable=False),
        sa.Column("run_token", sa.String(length=64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "dt"),
    )
    op.create_table(
        "analytics_prints_daily",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("client_name", sa.String(length=120), nullable=True),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_analytics_prints_daily_day"), "analytics_prints_daily", ["day"], unique=False)
    op.create_table(
        "analytics_progress",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("location_code", sa.String(length=16), nullable=True),
        sa.Column("location_name", sa.Text(), nullable=True),
        sa.Column("itype_code_num", sa.Integer(), nullable=True),
        sa.Column("item_type_name", sa.Text(), nullable=True),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("items_labelled", sa.Integer(), nullable=False),
        sa.Column("items_written_back", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "analytics_writeback_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "analytics_writeback_errors",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sierra_code", sa.Integer(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_analytics_writeback_errors_day"), "analytics_writeback_errors", ["day"], unique=False)
    op.create_table(
        "analytics_classifications",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("classification", sa.Text(), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_analytics_classifications_classification"), "analytics_classifications", ["classification"]
    )
    op.create_table(
        "analytics_station_throughput",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("client_name", sa.String(length=120), nullable=True),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.Column("active_hours", sa.Integer(), nullable=False),
        sa.Column("busiest_hour_labels", sa.Integer(), nullable=False),
        sa.Column("first_printed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_printed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("analytics_station_throughput")
    op.drop_index(op.f("ix_analytics_classifications_classification"), table_name="analytics_classifications")
    op.drop_table("analytics_classifications")
    op.drop_index(op.f("ix_analytics_writeback_errors_day"), table_name="analytics_writeback_errors")
    op.drop_table("analytics_writeback_errors")
    op.drop_table("analytics_writeback_daily")
    op.drop_table("analytics_progress")
    op.drop_index(op.f("ix_analytics_prints_daily_day"), table_name="analytics_prints_daily")
    op.drop_table("analytics_prints_daily")
    op.drop_table("etl_partitions")
