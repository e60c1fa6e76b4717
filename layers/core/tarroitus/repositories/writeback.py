"""The writeback queue in PostgreSQL."""

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tarroitus.models import WritebackEntry, WritebackStatus


def enqueue_item(session: Session, *, item_record_id: int, classification: str, now: datetime | None = None) -> None:
    """Queue (or re-queue) an item for writeback with the classification to write.

    An item already queued keeps its place; one in progress is queued again after the current
    attempt, with the newest classification; a done or dead-lettered one starts afresh.
    """
    moment = now or func.now()
    statement = insert(WritebackEntry).values(
        item_record_id=item_record_id,
        status=WritebackStatus.QUEUED,
        classification=classification,
        attempts=0,
        queued_at=moment,
        next_attempt_at=moment,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[WritebackEntry.item_record_id],
        set_={
            "status": WritebackStatus.QUEUED,
            "classification": statement.excluded.classification,
            "attempts": 0,
            "queued_at": statement.excluded.queued_at,
            "next_attempt_at": statement.excluded.next_attempt_at,
            "completed_at": None,
            "last_error": None,
            "last_error_code": None,
        },
    )
    session.execute(statement)
