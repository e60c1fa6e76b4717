"""A dry run of the writeback for go-live: what it would send to Sierra for the next queued items, writing nothing.

Reads the next due items of the queue (in the order a run claims them; nothing is claimed or changed) and,
per item, GETs it from the configured Sierra and plans its write exactly as the writeback does: the current
call number, the PUT body it would send (None when Sierra already has everything) and the call number that
would result. A per-item problem (an item missing or deleted in Sierra) is reported on that item, and so
are items left unread when the time budget ran out; Sierra being unavailable or refusing the credentials
stops the dry run (`ServiceUnavailableError`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from tarroitus.errors import ServiceUnavailableError
from tarroitus.models import WritebackEntry
from tarroitus.repositories import writeback as queue
from tarroitus.services.writeback.plan import WritebackOptions
from tarroitus.services.writeback.queue import UnwritableItemError, read_plan
from tarroitus.settings import Settings
from tarroitus.sierra import SierraAuthError, SierraError, SierraUnavailableError

if TYPE_CHECKING:
    # The route imports this module with the API; the client (and httpx) loads when a dry run connects.
    from tarroitus.sierra import SierraClient

#: The most items one dry run reads from Sierra.
MAX_DRY_RUN_ITEMS = 500


class WritebackPreview(BaseModel):
    """One queued item: its call number in Sierra now, the PUT body the writeback would send, and the result;
    the REST schema extends it."""

    model_config = ConfigDict(frozen=True)

    item_record_id: int
    classification: str
    queued_at: datetime
    attempts: int
    current_call_number: str | None = Field(description="As Sierra's callNumber shows it, e.g. |a84.2 HEI")
    put_body: dict[str, Any] | None = Field(description="What would be sent; null when Sierra already has it all")
    resulting_call_number: str | None
    error: str | None = Field(description="Why the item could not be planned (missing or deleted in Sierra...)")


def preview_writeback(
    session: Session,
    connect: Callable[[], SierraClient],
    *,
    settings: Settings,
    items: int,
    now: datetime,
    deadline: float | None = None,
) -> list[WritebackPreview]:
    """What the writeback would do with the next `items` due items; reads the queue and Sierra, writes nothing.

    `connect` gives the Sierra client, opened only when there is an item to read. Items not read by `deadline`
    (a `time.monotonic()` value) say so instead.
    """
    if not 1 <= items <= MAX_DRY_RUN_ITEMS:
        raise ValueError(f"a dry run reads 1 to {MAX_DRY_RUN_ITEMS} items")
    entries = queue.list_due(session, now=now, limit=items)
    if not entries:
        return []
    with connect() as sierra:
        return _previews(sierra, entries, WritebackOptions.from_settings(settings), deadline)


def _previews(
    sierra: SierraClient, entries: Sequence[WritebackEntry], options: WritebackOptions, deadline: float | None
) -> list[WritebackPreview]:
    previews = []
    for entry in entries:
        preview = WritebackPreview(
            item_record_id=entry.item_record_id,
            classification=entry.classification,
            queued_at=entry.queued_at,
            attempts=entry.attempts,
            current_call_number=None,
            put_body=None,
            resulting_call_number=None,
            error=None,
        )
        if deadline is not None and time.monotonic() >= deadline:
            previews.append(preview.model_copy(update={"error": "Not read: the dry run's time ran out"}))
            continue
        try:
            previews.append(_planned(sierra, preview, options))
        except (SierraAuthError, SierraUnavailableError) as exc:
            raise ServiceUnavailableError(f"Sierra could not be read: {exc}", code="sierra_unavailable") from exc
    return previews


def _planned(sierra: SierraClient, preview: WritebackPreview, options: WritebackOptions) -> WritebackPreview:
    try:
        plan, _ = read_plan(
            sierra,
            preview.item_record_id,
            classification=preview.classification,
            queued_at=preview.queued_at,
            options=options,
        )
    except (SierraAuthError, SierraUnavailableError):
        raise
    except (SierraError, UnwritableItemError) as exc:
        return preview.model_copy(update={"error": str(exc)})
    return preview.model_copy(
        update={
            "current_call_number": plan.current_call_number,
            "put_body": None if plan.done else plan.body(),
            "resulting_call_number": plan.resulting_call_number,
        }
    )
