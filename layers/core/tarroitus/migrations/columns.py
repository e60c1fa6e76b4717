"""Columns and tables the revisions share.

Revisions are history: a database migrated through them must come out the same whenever it is migrated. A helper
here therefore never changes what it creates; a revision that needs something else spells it out or adds a helper.
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem


def create_table_keyed_by_id(name: str, *columns_and_constraints: SchemaItem) -> None:
    """Create a table keyed by a `bigserial` `id`, its first column."""
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        *columns_and_constraints,
        sa.PrimaryKeyConstraint("id"),
    )


def timestamp(name: str) -> sa.Column[datetime]:
    """A `timestamp with time zone` that may be null."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def timestamp_of_insert(name: str) -> sa.Column[datetime]:
    """A `timestamp with time zone` that is never null and defaults to the time of the insert."""
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def count(name: str) -> sa.Column[int]:
    """An `integer` that is never null."""
    return sa.Column(name, sa.Integer(), nullable=False)


def create_analytics_prints_daily() -> None:
    """Labels printed per UTC day and client: created by 0002, dropped by 0006 (and made again by its downgrade)."""
    create_table_keyed_by_id(
        "analytics_prints_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("client_name", sa.String(length=120), nullable=True),
        count("labels"),
    )
    op.create_index(op.f("ix_analytics_prints_daily_day"), "analytics_prints_daily", ["day"], unique=False)
