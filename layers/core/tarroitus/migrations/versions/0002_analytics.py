"""Analytics: the Parquet partition registry and the aggregate tables behind /api/v1/analytics."""

import sqlalchemy as sa
from alembic import op

from tarroitus.migrations.columns import count, create_analytics_prints_daily, create_table_keyed_by_id

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "etl_partitions",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("dt", sa.Date(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        count("file_count"),
        sa.Column("byte_count", sa.BigInteger(), nullable=False),
        sa.Column("manifest_key", sa.Text(), nullable=False),
        sa.Column("run_token", sa.String(length=64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "dt"),
    )
    create_analytics_prints_daily()
    create_table_keyed_by_id(
        "analytics_progress",
        sa.Column("location_code", sa.String(length=16), nullable=True),
        sa.Column("location_name", sa.Text(), nullable=True),
        sa.Column("itype_code_num", sa.Integer(), nullable=True),
        sa.Column("item_type_name", sa.Text(), nullable=True),
        count("items_total"),
        count("items_labelled"),
        count("items_written_back"),
    )
    op.create_table(
        "analytics_writeback_daily",
        sa.Column("day", sa.Date(), nullable=False),
        count("succeeded"),
        count("failed"),
        count("items"),
        sa.PrimaryKeyConstraint("day"),
    )
    create_table_keyed_by_id(
        "analytics_writeback_errors",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sierra_code", sa.Integer(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        count("failures"),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index(op.f("ix_analytics_writeback_errors_day"), "analytics_writeback_errors", ["day"], unique=False)
    create_table_keyed_by_id(
        "analytics_classifications",
        sa.Column("classification", sa.Text(), nullable=False),
        count("labels"),
    )
    op.create_index(
        op.f("ix_analytics_classifications_classification"), "analytics_classifications", ["classification"]
    )
    create_table_keyed_by_id(
        "analytics_station_throughput",
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("client_name", sa.String(length=120), nullable=True),
        count("labels"),
        count("active_days"),
        count("active_hours"),
        count("busiest_hour_labels"),
        sa.Column("first_printed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_printed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    # A table's indexes are dropped with it.
    for table in (
        "analytics_station_throughput",
        "analytics_classifications",
        "analytics_writeback_errors",
        "analytics_writeback_daily",
        "analytics_progress",
        "analytics_prints_daily",
        "etl_partitions",
    ):
        op.drop_table(table)
