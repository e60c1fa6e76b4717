"""Alembic environment: runs on the connection the caller hands over (see `tarroitus.migrate`)."""

from alembic import context

from tarroitus import models
from tarroitus.db import Base

assert models  # the import registers every table on Base.metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through tarroitus.migrate, which passes a connection")

context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
