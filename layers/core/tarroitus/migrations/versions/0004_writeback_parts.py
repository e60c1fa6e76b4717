"""Writeback parts: which parts of a write (call number, inventory date, internal use) landed and which Sierra
refused.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"

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
