"""Database health: reachable, and migrated to the revision this code expects."""

from dataclasses import dataclass

from sqlalchemy import Engine, text

from tarroitus.migrate import current_revision, head_revision


@dataclass(frozen=True)
class DatabaseStatus:
    """What a readiness probe learnt from the database."""

    current_revision: str | None
    expected_revision: str | None

    @property
    def up_to_date(self) -> bool:
        """True when the schema is at the code's head revision."""
        return self.current_revision == self.expected_revision


def check_database(engine: Engine) -> DatabaseStatus:
    """Run `SELECT 1` and read the migration revision; raises SQLAlchemyError when unreachable."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return DatabaseStatus(current_revision=current_revision(engine), expected_revision=head_revision())
