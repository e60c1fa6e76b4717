"""What the local diagnostics endpoints show: effective settings (secrets masked) and database facts."""

from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine

from tarroitus.repositories import status as status_repository
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
    return status_repository.database_facts(engine)
