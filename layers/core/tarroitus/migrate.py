"""Schema migrations through Alembic, driven from code (the migrate Lambda, the dev command, tests).

Alembic is imported inside the functions: the API imports this module for its readiness probe,
and Alembic would add a third of a second to every API cold start.
"""

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> "Config":
    """An Alembic config pointing at the package's migrations, with no ini file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_to_head(engine: Engine) -> str:
    """Apply every pending migration; return the revision now current."""
    return _run(engine, "upgrade", "head")


def downgrade_to_base(engine: Engine) -> str:
    """Revert every migration (an empty schema)."""
    return _run(engine, "downgrade", "base")


def _run(engine: Engine, operation: str, target: str) -> str:
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, operation)(config, target)
    return current_revision(engine) or "base"


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database, or None on an empty one."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision the package ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_known_revision(revision: str) -> bool:
    """Whether the package ships `revision` (False for a database migrated by newer code)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
