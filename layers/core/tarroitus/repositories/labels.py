"""Label (print) events."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tarroitus.models import Client, LabelEvent


def add_label_event(
    session: Session,
    *,
    item_record_id: int,
    client_id: uuid.UUID | None,
    classification: str,
    signum: str,
    printed_at: datetime,
    source: str,
    idempotency_key: str | None = None,
    request_sha256: str | None = None,
) -> LabelEvent | None:
    """Insert a print event; None when this client already used `idempotency_key` (nothing inserted)."""
    statement = (
        insert(LabelEvent)
        .values(
            item_record_id=item_record_id,
            client_id=client_id,
            classification=classification,
            signum=signum,
            printed_at=printed_at,
            source=source,
            idempotency_key=idempotency_key,
            request_sha256=request_sha256,
        )
        .on_conflict_do_nothing(constraint="uq_label_events_client_idempotency_key")
        .returning(LabelEvent.id)
    )
    event_id = session.execute(statement).scalar_one_or_none()
    return None if event_id is None else session.get(LabelEvent, event_id)


def get_by_idempotency_key(session: Session, *, client_id: uuid.UUID, idempotency_key: str) -> LabelEvent | None:
    """The event this client recorded under `idempotency_key`, if any."""
    statement = select(LabelEvent).where(
        LabelEvent.client_id == client_id, LabelEvent.idempotency_key == idempotency_key
    )
    return session.scalars(statement).one_or_none()


def list_for_item(session: Session, *, item_record_id: int, limit: int) -> Sequence[tuple[LabelEvent, str | None]]:
    """An item's print events, newest first, each with the printing client's name."""
    statement = (
        select(LabelEvent, Client.name)
        .outerjoin(Client, Client.id == LabelEvent.client_id)
        .where(LabelEvent.item_record_id == item_record_id)
        .order_by(LabelEvent.printed_at.desc(), LabelEvent.id.desc())
        .limit(limit)
    )
    return session.execute(statement).all()
