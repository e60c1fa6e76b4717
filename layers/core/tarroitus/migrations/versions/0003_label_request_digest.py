"""Label events keep a digest of the request an Idempotency-Key was first used with."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # Nullable: prints recorded before this revision, and prints without a key, have none.
    op.add_column("label_events", sa.Column("request_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("label_events", "request_sha256")
