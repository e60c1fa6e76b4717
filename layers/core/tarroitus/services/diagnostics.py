"""What the local diagnostics endpoints show: effective settings (secrets masked) and database facts."""

from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine, func, select, text

from tarroitus import models
from tarroitus.db import Base
from tarroitus.migrate import current_revision
from tarroitus.settings import Settings

MASK = "**********"


def describe_settings(settings: Settings) -> dict[str, Any]:
    """Every setting by name; secrets show only whether they are set."""
    described: dict[str, Any] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            described[name] = MASK if value.get_secret_value() else ""
        else:
            described[name] = value if isinstance(value, int | float | bool | list | type(None)) else str(value)
    return described


def describe_database(engine: Engine) -> dict[str, Any]:
    """Server version, migration revision and each table's row count."""
    assert models  # the import registers every table on Base.metadata
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar_one()
        counts = {
            name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in sorted(Base.metadata.tables.items())
        }
    return {"server_version": version, "migration_revision": current_revision(engine), "row_counts": counts}
