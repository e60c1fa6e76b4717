"""Writeback parts: which parts of a write (call number, inventory date, internal use) landed and which Sierra refused.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("writeback_queue", "writeback_attempts")
COLUMNS = ("written_parts", "refused_parts")


def upgrade() -> None:
    for table in TABLES:
        for column in COLUMNS:
            op.add_column(
                table,
                sa.Column(
                    column,
                    postgresql.ARRAY(sa.String(length=32)),
                    server_default=sa.text("'{}'"),
                    nullable=False,
                ),
            )


def downgrade() -> None:
    for table in TABLES:
        for column in COLUMNS:
            op.drop_column(table, column)
