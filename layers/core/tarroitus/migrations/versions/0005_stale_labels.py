"""Stale labels: the label last printed on each item, whether it needs a reprint, and the count per progress group.

Printed items get their last print's classification and signum from `label_events` before `reprint_needed` is
added, so the table is rewritten once. Existing progress rows count 0 until the next ETL run refreshes them.
"""

import sqlalchemy as sa
from alembic import op

from tarroitus.migrations.generated_columns import REPRINT_NEEDED_0005

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("items", sa.Column("last_printed_classification", sa.Text(), nullable=True))
    op.add_column("items", sa.Column("last_printed_signum", sa.String(length=8), nullable=True))
    op.execute(
        "UPDATE items AS i SET last_printed_classification = NULLIF(e.classification, ''),"
        " last_printed_signum = e.signum"
        " FROM (SELECT DISTINCT ON (item_record_id) item_record_id, classification, signum FROM label_events"
        " ORDER BY item_record_id, printed_at DESC, id DESC) AS e"
        " WHERE e.item_record_id = i.item_record_id"
    )
    op.add_column(
        "items",
        sa.Column("reprint_needed", sa.Boolean(), sa.Computed(REPRINT_NEEDED_0005, persisted=True), nullable=False),
    )
    op.create_index(
        "ix_items_reprint_needed", "items", ["item_record_id"], unique=False, postgresql_where=sa.text("reprint_needed")
    )
    op.add_column(
        "analytics_progress", sa.Column("items_reprint_needed", sa.Integer(), server_default="0", nullable=False)
    )
    op.alter_column("analytics_progress", "items_reprint_needed", server_default=None)


def downgrade() -> None:
    op.drop_column("analytics_progress", "items_reprint_needed")
    op.drop_index("ix_items_reprint_needed", table_name="items", postgresql_where=sa.text("reprint_needed"))
    op.drop_column("items", "reprint_needed")
    op.drop_column("items", "last_printed_signum")
    op.drop_column("items", "last_printed_classification")
