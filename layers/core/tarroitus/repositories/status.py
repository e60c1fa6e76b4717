"""Read-only figures: the writeback queue at a glance (status view), the database's facts (diagnostics)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from tarroitus.db import Base
from tarroitus.domain import WritebackStatus
from tarroitus.migrate import current_revision
from tarroitus.models import WritebackEntry

PENDING_STATUSES = (WritebackStatus.QUEUED, WritebackStatus.IN_PROGRESS)


@dataclass(frozen=True)
class WritebackSummary:
    """How many queue entries are in each status, and when the oldest pending one was queued."""

    queued: int
    in_progress: int
    done: int
    dead: int
    oldest_pending_queued_at: datetime | None


def summarise_writeback_queue(session: Session) -> WritebackSummary:
    """Counts per writeback status and the queue time of the oldest queued or in-progress entry."""
    pending = WritebackEntry.status.in_(PENDING_STATUSES)
    statement = select(
        func.count().filter(WritebackEntry.status == WritebackStatus.QUEUED),
        func.count().filter(WritebackEntry.status == WritebackStatus.IN_PROGRESS),
        func.count().filter(WritebackEntry.status == WritebackStatus.DONE),
        func.count().filter(WritebackEntry.status == WritebackStatus.DEAD),
        func.min(WritebackEntry.queued_at).filter(pending),
    ).select_from(WritebackEntry)
    queued, in_progress, done, dead, oldest = session.execute(statement).one()
    return WritebackSummary(
        queued=queued, in_progress=in_progress, done=done, dead=dead, oldest_pending_queued_at=oldest
    )


def database_facts(engine: Engine) -> dict[str, Any]:
    """Server version, migration revision and each table's row count (every model is loaded with this module)."""
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar_one()
        counts = {
            name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in sorted(Base.metadata.tables.items())
        }
    return {"server_version": version, "migration_revision": current_revision(engine), "row_counts": counts}
