"""Drop analytics_prints_daily: labels per day are counted live from label_events, nothing reads the table.

A downgrade makes the table again, empty; an ETL run of the older release fills it.
"""

from alembic import op

from tarroitus.migrations.columns import create_analytics_prints_daily

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.drop_table("analytics_prints_daily")


def downgrade() -> None:
    create_analytics_prints_daily()
