"""Schema migrations through Alembic, driven from code (the migrate Lambda, the dev command, tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic config pointing at the package's migrations, with no ini file."""
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
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, operation)(config, target)
    return current_revision(engine) or "base"


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database, or None on an empty one."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
