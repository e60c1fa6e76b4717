"""The writeback queue in PostgreSQL: enqueue, claim with SKIP LOCKED, record outcomes, operator views.

Claims. A claim marks rows ``in_progress`` with ``claimed_by``/``claimed_at`` and counts the attempt;
the caller commits it before any HTTP so that a concurrent claimer skips those rows. A row is claimable
when it is ``queued`` and due and nobody holds it, or when its holder's claim is older than the
visibility timeout (the holder crashed). A reprint re-queues an item even while it is being written
(:func:`enqueue_item` leaves ``claimed_by`` alone), and such a row stays unclaimable until the current
attempt finishes or its claim goes stale, so two writers never hold the same item.

Outcomes. Every outcome update is conditional on ``status = 'in_progress' AND claimed_by = :owner``: an
attempt whose row was re-queued meanwhile (or reclaimed after its claim went stale) changes nothing but
its own claim, and the newer work is not clobbered. An outcome also records the parts of the write
(call number, inventory date, internal use) Sierra holds and those it refused.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tarroitus.domain import WritebackStatus
from tarroitus.models import Item, WritebackAttempt, WritebackEntry

CLAIM_VISIBILITY_TIMEOUT = timedelta(minutes=15)
"""A claim this old is abandoned: no Lambda invocation runs longer than 15 minutes."""


@dataclass(frozen=True)
class ClaimedEntry:
    """A queue row this claimer now holds; `attempts` includes the attempt just claimed."""

    item_record_id: int
    classification: str
    attempts: int
    queued_at: datetime
    reclaimed_from: str | None
    """The previous holder when the row was taken over from an abandoned claim, else None."""


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
            "written_parts": [],
            "refused_parts": [],
        },
    )
    session.execute(statement)


def claim_batch(
    session: Session,
    *,
    owner: str,
    now: datetime,
    limit: int,
    visibility_timeout: timedelta = CLAIM_VISIBILITY_TIMEOUT,
    item_record_ids: Sequence[int] | None = None,
) -> list[ClaimedEntry]:
    """Claim up to `limit` due rows (oldest due first; only these ids when given) with FOR UPDATE SKIP LOCKED;
    commit before any HTTP."""
    stale_before = now - visibility_timeout
    abandoned = WritebackEntry.claimed_at <= stale_before
    query = (
        select(WritebackEntry.item_record_id, WritebackEntry.claimed_by)
        .where(
            or_(
                and_(
                    WritebackEntry.status == WritebackStatus.QUEUED,
                    WritebackEntry.next_attempt_at <= now,
                    or_(WritebackEntry.claimed_by.is_(None), abandoned),
                ),
                and_(WritebackEntry.status == WritebackStatus.IN_PROGRESS, abandoned),
            )
        )
        .order_by(WritebackEntry.next_attempt_at, WritebackEntry.item_record_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if item_record_ids is not None:
        query = query.where(WritebackEntry.item_record_id.in_(item_record_ids))
    candidates = query.cte("candidates")
    previous_holder = candidates.c.claimed_by
    rows = session.execute(
        update(WritebackEntry)
        .where(WritebackEntry.item_record_id == candidates.c.item_record_id)
        .values(
            status=WritebackStatus.IN_PROGRESS,
            claimed_by=owner,
            claimed_at=now,
            attempts=WritebackEntry.attempts + 1,
        )
        .returning(
            WritebackEntry.item_record_id,
            WritebackEntry.classification,
            WritebackEntry.attempts,
            WritebackEntry.queued_at,
            previous_holder,
        )
        .execution_options(synchronize_session=False)
    ).all()
    claimed = [
        ClaimedEntry(
            item_record_id=row[0],
            classification=row[1],
            attempts=row[2],
            queued_at=row[3],
            reclaimed_from=row[4],
        )
        for row in rows
    ]
    return sorted(claimed, key=lambda entry: entry.item_record_id)


def mark_done(
    session: Session,
    *,
    item_record_id: int,
    owner: str,
    now: datetime,
    sierra_updated_at: datetime | None,
    written_parts: Sequence[str] = (),
) -> bool:
    """Record success; False (only the claim released) when the row was re-queued or taken over meanwhile.

    `sierra_updated_at` is the item's updatedDate as Sierra reported it after the write, when known;
    `written_parts` the parts of the write Sierra now holds.
    """
    done = _finish(
        session,
        item_record_id=item_record_id,
        owner=owner,
        values={
            "status": WritebackStatus.DONE,
            "completed_at": now,
            "last_error": None,
            "last_error_code": None,
            "written_parts": list(written_parts),
            "refused_parts": [],
        },
    )
    if sierra_updated_at is not None:
        # Also when a reprint re-queued the item during the write: the write happened, so the sync
        # must still recognise it as the project's own.
        record_sierra_updated_at(session, updated={item_record_id: sierra_updated_at})
    return done


def record_sierra_updated_at(session: Session, *, updated: Mapping[int, datetime]) -> None:
    """Store the updatedDate Sierra gave items after this project's PUT (never moving it backwards)."""
    for item_record_id, updated_at in updated.items():
        session.execute(
            update(WritebackEntry)
            .where(
                WritebackEntry.item_record_id == item_record_id,
                or_(WritebackEntry.sierra_updated_at.is_(None), WritebackEntry.sierra_updated_at < updated_at),
            )
            .values(sierra_updated_at=updated_at)
            .execution_options(synchronize_session=False)
        )


def schedule_retry(
    session: Session,
    *,
    item_record_id: int,
    owner: str,
    next_attempt_at: datetime,
    error_code: int | None,
    error: str,
    written_parts: Sequence[str] | None = None,
) -> bool:
    """Put the row back in the queue, due at `next_attempt_at`, with the error; False when no longer ours.

    `written_parts`: the parts Sierra holds after the attempt, when the attempt got to know them.
    """
    values = {"status": WritebackStatus.QUEUED, "next_attempt_at": next_attempt_at}
    failure = _failure(error_code=error_code, error=error, written_parts=written_parts)
    return _finish(session, item_record_id=item_record_id, owner=owner, values=values | failure)


def dead_letter(
    session: Session,
    *,
    item_record_id: int,
    owner: str,
    now: datetime,
    error_code: int | None,
    error: str,
    written_parts: Sequence[str] | None = None,
    refused_parts: Sequence[str] = (),
) -> bool:
    """Move the row to the dead letters with its last error and the parts Sierra refused; False when no longer ours.

    `written_parts` as for `schedule_retry`.
    """
    values = {"status": WritebackStatus.DEAD, "completed_at": now, "refused_parts": list(refused_parts)}
    failure = _failure(error_code=error_code, error=error, written_parts=written_parts)
    return _finish(session, item_record_id=item_record_id, owner=owner, values=values | failure)


def _failure(*, error_code: int | None, error: str, written_parts: Sequence[str] | None) -> dict[str, Any]:
    """The columns a failed attempt sets: its error, and the parts Sierra holds when the attempt got to know them."""
    failure: dict[str, Any] = {"last_error_code": error_code, "last_error": error}
    if written_parts is not None:
        failure["written_parts"] = list(written_parts)
    return failure


def release_claims(session: Session, *, owner: str, item_record_ids: Sequence[int]) -> int:
    """Give back claimed rows never started (time budget): queued again, the claimed attempt not counted."""
    if not item_record_ids:
        return 0
    released = session.execute(
        update(WritebackEntry)
        .where(
            WritebackEntry.item_record_id.in_(item_record_ids),
            WritebackEntry.claimed_by == owner,
            WritebackEntry.status == WritebackStatus.IN_PROGRESS,
        )
        .values(
            status=WritebackStatus.QUEUED,
            attempts=func.greatest(WritebackEntry.attempts - 1, 0),
            claimed_by=None,
            claimed_at=None,
        )
        .returning(WritebackEntry.item_record_id)
        .execution_options(synchronize_session=False)
    ).all()
    _drop_claims(session, owner=owner, item_record_ids=item_record_ids)
    return len(released)


def add_attempt(
    session: Session,
    *,
    item_record_id: int,
    attempted_at: datetime,
    outcome: str,
    classification: str | None,
    http_status: int | None = None,
    sierra_code: int | None = None,
    error: str | None = None,
    duration_ms: int | None = None,
    written_parts: Sequence[str] = (),
    refused_parts: Sequence[str] = (),
) -> None:
    """Record one attempt at writing an item, whatever its outcome, with the parts it landed and Sierra refused."""
    session.add(
        WritebackAttempt(
            item_record_id=item_record_id,
            attempted_at=attempted_at,
            outcome=outcome,
            classification=classification,
            http_status=http_status,
            sierra_code=sierra_code,
            error=error,
            duration_ms=duration_ms,
            written_parts=list(written_parts),
            refused_parts=list(refused_parts),
        )
    )


def requeue_dead(session: Session, *, now: datetime, item_record_ids: Sequence[int] | None = None) -> list[int]:
    """Queue dead-lettered rows again with a fresh attempt count (all of them, or those ids); their ids."""
    statement = (
        update(WritebackEntry)
        .where(WritebackEntry.status == WritebackStatus.DEAD)
        .values(status=WritebackStatus.QUEUED, attempts=0, next_attempt_at=now, completed_at=None, refused_parts=[])
        .returning(WritebackEntry.item_record_id)
        .execution_options(synchronize_session=False)
    )
    if item_record_ids is not None:
        statement = statement.where(WritebackEntry.item_record_id.in_(item_record_ids))
    return sorted(session.scalars(statement).all())


def list_due(session: Session, *, now: datetime, limit: int) -> Sequence[WritebackEntry]:
    """Queued rows that are due and unclaimed, in the order a run claims them; reads only, locks nothing."""
    return session.scalars(
        select(WritebackEntry)
        .where(
            WritebackEntry.status == WritebackStatus.QUEUED,
            WritebackEntry.next_attempt_at <= now,
            WritebackEntry.claimed_by.is_(None),
        )
        .order_by(WritebackEntry.next_attempt_at, WritebackEntry.item_record_id)
        .limit(limit)
    ).all()


def count_by_status(session: Session, *, now: datetime) -> dict[str, int]:
    """Rows per status, with queued rows split into due now and waiting for a retry."""
    counts = {status.value: 0 for status in WritebackStatus}
    counts["waiting_retry"] = 0
    waiting = and_(WritebackEntry.status == WritebackStatus.QUEUED, WritebackEntry.next_attempt_at > now)
    rows = session.execute(
        select(WritebackEntry.status, func.count(), func.count().filter(waiting)).group_by(WritebackEntry.status)
    ).all()
    for status, count, waiting_count in rows:
        counts[WritebackStatus(status).value] = count
        counts["waiting_retry"] += waiting_count
    return counts


def oldest_queued_at(session: Session) -> datetime | None:
    """When the longest-waiting queued row was queued."""
    return session.scalar(
        select(func.min(WritebackEntry.queued_at)).where(WritebackEntry.status == WritebackStatus.QUEUED)
    )


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered queue row with what an operator recognises the item by (None once the item is gone)."""

    item_record_id: int
    classification: str
    attempts: int
    queued_at: datetime
    completed_at: datetime | None
    last_error_code: int | None
    last_error: str | None
    written_parts: list[str]
    refused_parts: list[str]
    barcode: str | None
    title: str | None
    item_number: str | None
    location_code: str | None
    location_name: str | None


def list_dead(session: Session, *, limit: int) -> list[DeadLetter]:
    """Dead-lettered rows with their items' barcode, title, number and location, most recently dead first."""
    entry = WritebackEntry
    statement = (
        select(
            entry.item_record_id,
            entry.classification,
            entry.attempts,
            entry.queued_at,
            entry.completed_at,
            entry.last_error_code,
            entry.last_error,
            entry.written_parts,
            entry.refused_parts,
            Item.barcode,
            Item.best_title.label("title"),
            Item.item_number,
            Item.location_code,
            Item.location_name,
        )
        .outerjoin(Item, Item.item_record_id == entry.item_record_id)
        .where(entry.status == WritebackStatus.DEAD)
        .order_by(entry.completed_at.desc().nulls_last(), entry.item_record_id)
        .limit(limit)
    )
    return [DeadLetter(**row._asdict()) for row in session.execute(statement)]


def list_attempts(
    session: Session, *, outcomes: Sequence[str] | None = None, item_record_id: int | None = None, limit: int = 100
) -> Sequence[WritebackAttempt]:
    """Attempts newest first, optionally only these outcomes or this item."""
    statement = select(WritebackAttempt).order_by(WritebackAttempt.attempted_at.desc(), WritebackAttempt.id.desc())
    if outcomes is not None:
        statement = statement.where(WritebackAttempt.outcome.in_(outcomes))
    if item_record_id is not None:
        statement = statement.where(WritebackAttempt.item_record_id == item_record_id)
    return session.scalars(statement.limit(limit)).all()


def get_entry(session: Session, *, item_record_id: int) -> WritebackEntry | None:
    """The queue row of an item, read fresh from the database."""
    return session.scalars(
        select(WritebackEntry)
        .where(WritebackEntry.item_record_id == item_record_id)
        .execution_options(populate_existing=True)
    ).one_or_none()


def _finish(session: Session, *, item_record_id: int, owner: str, values: Mapping[str, Any]) -> bool:
    finished = session.execute(
        update(WritebackEntry)
        .where(
            WritebackEntry.item_record_id == item_record_id,
            WritebackEntry.status == WritebackStatus.IN_PROGRESS,
            WritebackEntry.claimed_by == owner,
        )
        .values(**values, claimed_by=None, claimed_at=None)
        .returning(WritebackEntry.item_record_id)
        .execution_options(synchronize_session=False)
    ).first()
    if finished is None:
        _drop_claims(session, owner=owner, item_record_ids=[item_record_id])
    return finished is not None


def _drop_claims(session: Session, *, owner: str, item_record_ids: Sequence[int]) -> None:
    """Clear this owner's claim on rows a reprint re-queued meanwhile, so they become claimable."""
    session.execute(
        update(WritebackEntry)
        .where(WritebackEntry.item_record_id.in_(item_record_ids), WritebackEntry.claimed_by == owner)
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
