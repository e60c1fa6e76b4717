"""Print events: record that a label was printed, count it on the item, and queue the item for writeback.

Both protocols land here. The /api/v1 print refuses an item that has no classification or is
deleted, and honours an Idempotency-Key per client. The legacy `PUT /itemdata/{id}` is sent by
stations after they printed what `/itemdata` gave them, so it is never refused for the item's
state: it records the print with what is known (an empty classification when there is none) and
queues the writeback only when there is a classification to write and the item is not deleted.
"""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from aws_lambda_powertools import Logger, Tracer
from sqlalchemy.orm import Session

from tarroitus.errors import ConflictError, InvalidInputError, NotFoundError
from tarroitus.models import Client, Item, LabelEvent
from tarroitus.repositories import items as items_repository
from tarroitus.repositories import labels as labels_repository
from tarroitus.repositories.items import ItemRecord, item_record_of
from tarroitus.repositories.writeback import enqueue_item
from tarroitus.services.items import LABEL_WIDTH, classification_of, format_label_line, signum_of
from tarroitus.services.sync.item_mapping import record_id_of

logger = Logger(child=True)
tracer = Tracer(auto_patch=False)

SOURCE_API = "api"
SOURCE_LEGACY = "legacy"
MAX_ITEM_ID = 2**63 - 1
"""The largest item id PostgreSQL can store (bigint); a larger one cannot name an item."""


@dataclass(frozen=True)
class PrintedLabel:
    """A recorded print event; `replayed` when it answers a repeated Idempotency-Key."""

    id: int
    item_id: int
    client_id: uuid.UUID | None
    client_name: str | None
    classification: str
    signum: str
    label_line: str
    printed_at: datetime
    source: str
    idempotency_key: str | None
    replayed: bool = False


@dataclass(frozen=True)
class ExpectedLabel:
    """What the station says it printed; a print is refused when it differs from the item's current label."""

    classification: str | None = None
    signum: str | None = None


def _printed(event: LabelEvent, client_name: str | None, *, replayed: bool = False) -> PrintedLabel:
    return PrintedLabel(
        id=event.id,
        item_id=event.item_record_id,
        client_id=event.client_id,
        client_name=client_name,
        classification=event.classification,
        signum=event.signum,
        label_line=format_label_line(event.classification, event.signum, LABEL_WIDTH),
        printed_at=event.printed_at,
        source=event.source,
        idempotency_key=event.idempotency_key,
        replayed=replayed,
    )


def request_digest(expected: ExpectedLabel) -> str:
    """SHA-256 of what a print request asks for beyond its item: the same body, however serialised, digests alike."""
    return hashlib.sha256(json.dumps(asdict(expected), sort_keys=True).encode()).hexdigest()


def _replay(event: LabelEvent, *, item_id: int, client: Client, digest: str) -> PrintedLabel:
    if event.item_record_id != item_id:
        raise ConflictError(
            "This Idempotency-Key was already used for another item",
            code="idempotency_key_reused",
            details=[{"field": "header.Idempotency-Key", "item_id": event.item_record_id}],
        )
    # Events recorded before digests were kept have none: their key replays as it always did.
    if event.request_sha256 is not None and event.request_sha256 != digest:
        raise InvalidInputError(
            "This Idempotency-Key was already used with a different request body; use a new key for a new request",
            code="idempotency_key_mismatch",
            details=[
                {"field": "header.Idempotency-Key", "message": "reused with a different body", "type": "mismatch"}
            ],
        )
    return _printed(event, client.name, replayed=True)


def printable_label(item: ItemRecord) -> tuple[str, str]:
    """The classification and signum to print on the item's label; 409 when it is deleted or has no classification."""
    if item.deleted:
        raise ConflictError(f"Item {item.item_record_id} is deleted in Sierra", code="item_deleted")
    classification = classification_of(item)
    if classification is None:
        raise ConflictError(f"Item {item.item_record_id} has no new classification to print", code="no_classification")
    return classification, signum_of(item)


def _check_printable(item: Item, expected: ExpectedLabel) -> tuple[str, str]:
    classification, signum = printable_label(item_record_of(item))
    stale = [
        {"field": f"body.{name}", "printed": given, "current": current}
        for name, given, current in (
            ("classification", expected.classification, classification),
            ("signum", expected.signum, signum),
        )
        if given is not None and given.strip() != current
    ]
    if stale:
        raise ConflictError(
            "The label printed differs from the item's current label; look the item up again and reprint",
            code="label_outdated",
            details=stale,
        )
    return classification, signum


@tracer.capture_method(capture_response=False)
def record_print(
    session: Session,
    *,
    item_id: int,
    client: Client,
    idempotency_key: str | None = None,
    expected: ExpectedLabel | None = None,
) -> PrintedLabel:
    """Record a print of the item's current label by `client` and queue the item for writeback.

    A repeated `idempotency_key` of the same client with the same request returns the first event and
    records nothing; with another item it is a conflict (409), with another body invalid input (422).
    """
    expected = expected or ExpectedLabel()
    digest = request_digest(expected)
    if idempotency_key is not None:
        earlier = labels_repository.get_by_idempotency_key(
            session, client_id=client.id, idempotency_key=idempotency_key
        )
        if earlier is not None:
            return _replay(earlier, item_id=item_id, client=client, digest=digest)
    item = items_repository.lock_by_id(session, item_record_id=item_id)
    if item is None:
        raise NotFoundError(f"Item {item_id} not found", code="item_not_found")
    classification, signum = _check_printable(item, expected)
    now = datetime.now(UTC)
    event = labels_repository.add_label_event(
        session,
        item_record_id=item_id,
        client_id=client.id,
        classification=classification,
        signum=signum,
        printed_at=now,
        source=SOURCE_API,
        idempotency_key=idempotency_key,
        request_sha256=digest if idempotency_key is not None else None,
    )
    if event is None:
        # A concurrent request with the same key committed first (the insert waited for it).
        assert idempotency_key is not None
        earlier = labels_repository.get_by_idempotency_key(
            session, client_id=client.id, idempotency_key=idempotency_key
        )
        assert earlier is not None
        return _replay(earlier, item_id=item_id, client=client, digest=digest)
    items_repository.mark_printed(
        session, item=item, printed_at=now, client_id=client.id, classification=classification, signum=signum
    )
    enqueue_item(session, item_record_id=item_id, classification=classification, now=now)
    logger.info("Label printed", extra={"item_id": item_id, "client": client.name, "print_count": item.print_count})
    return _printed(event, client.name)


def _lock_legacy_item(session: Session, item_id: int) -> Item | None:
    """The item a legacy id names: a stored id as it is, else the record number of an item database id."""
    if not 0 < item_id <= MAX_ITEM_ID:
        return None
    item = items_repository.lock_by_id(session, item_record_id=item_id)
    record_id = record_id_of(item_id, "i")
    if item is None and record_id and record_id != item_id:
        item = items_repository.lock_by_id(session, item_record_id=record_id)
    return item


@tracer.capture_method(capture_response=False)
def record_legacy_print(session: Session, *, item_id: int, client: Client) -> PrintedLabel:
    """Record a legacy station's print; queue the writeback only for a live item with a classification.

    `item_id` is the record number a look-up answers, or the SierraDNA database id the sync agent uploaded.
    """
    item = _lock_legacy_item(session, item_id)
    if item is None:
        raise NotFoundError("Item not found")
    record = item_record_of(item)
    classification, signum = classification_of(record), signum_of(record)
    now = datetime.now(UTC)
    event = labels_repository.add_label_event(
        session,
        item_record_id=item.item_record_id,
        client_id=client.id,
        classification=classification or "",
        signum=signum,
        printed_at=now,
        source=SOURCE_LEGACY,
    )
    assert event is not None  # no idempotency key, so nothing can conflict
    items_repository.mark_printed(
        session, item=item, printed_at=now, client_id=client.id, classification=classification, signum=signum
    )
    queued = classification is not None and not item.deleted
    if classification is not None and queued:
        enqueue_item(session, item_record_id=item.item_record_id, classification=classification, now=now)
    logger.info("Legacy label printed", extra={"item_id": item.item_record_id, "client": client.name, "queued": queued})
    return _printed(event, client.name)


def list_prints(session: Session, *, item_id: int, limit: int) -> list[PrintedLabel]:
    """An item's print events, newest first; 404 when the item is unknown."""
    if items_repository.get_by_id(session, item_record_id=item_id) is None:
        raise NotFoundError(f"Item {item_id} not found", code="item_not_found")
    rows = labels_repository.list_for_item(session, item_record_id=item_id, limit=limit)
    return [_printed(event, name) for event, name in rows]
