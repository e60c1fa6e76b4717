"""Read-only figures for the status view: the writeback queue at a glance."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tarroitus.domain import WritebackStatus
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
