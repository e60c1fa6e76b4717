"""The Sierra writeback queue for operators: its state, a retry of dead-lettered items, and a dry run."""

import time
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Literal, Self

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tarroitus.api.auth import AdminClient
from tarroitus.api.deps import SessionDep, SettingsDep
from tarroitus.api.schemas import error_responses
from tarroitus.jobs.sierra_connection import build_sierra_client
from tarroitus.services.writeback.dry_run import WritebackPreview, preview_writeback
from tarroitus.services.writeback.queue import (
    MAX_RETRY_IDS,
    LastRun,
    QueueDepth,
    read_writeback_status,
    retry_dead_letters,
)

#: The most items one dry run through the API reads from Sierra, and how long it may take (the HTTP API
#: gives up after 30 s; the command line reads more).
MAX_API_DRY_RUN_ITEMS = 50
API_DRY_RUN_SECONDS = 20.0
API_DRY_RUN_TIMEOUT_SECONDS = 5.0

WritePart = Literal["call_number", "inventory_date", "internal_use"]

router = APIRouter(prefix="/writeback", tags=["writeback"])


class WritebackDeadLetter(BaseModel):
    """An item that will not be retried until an operator asks, with Sierra's last error."""

    model_config = ConfigDict(from_attributes=True)

    item_record_id: int
    classification: str
    attempts: int
    queued_at: datetime
    dead_since: datetime | None = Field(validation_alias="completed_at")
    last_error_code: int | None = Field(description="Sierra's error code (e.g. 116), when Sierra sent one")
    last_error: str | None
    written_parts: list[WritePart] = Field(description="Parts of the write Sierra holds (those it accepted)")
    refused_parts: list[WritePart] = Field(description="Parts Sierra refused (HTTP 400), with `last_error`")
    barcode: str | None = Field(description="The item's barcode (null once the item is gone)")
    title: str | None = Field(description="The item's title")
    item_number: str | None = Field(description="Sierra's item number, e.g. i1234567")
    location_code: str | None
    location_name: str | None


class WritebackFailure(BaseModel):
    """One failed attempt, with the HTTP status and Sierra's error code and text."""

    model_config = ConfigDict(from_attributes=True)

    item_record_id: int
    attempted_at: datetime
    outcome: str = Field(examples=["failed_retrying", "dead_lettered", "claim_expired"])
    classification: str | None
    http_status: int | None
    sierra_code: int | None
    error: str | None
    written_parts: list[WritePart] = Field(description="Parts this attempt landed in Sierra")
    refused_parts: list[WritePart] = Field(description="Parts Sierra refused in this attempt")


class WritebackRun(LastRun):
    """The newest writeback run and its counts (written, skipped_as_done, retried, dead_lettered...)."""

    model_config = ConfigDict(from_attributes=True)


class WritebackStatusPublic(QueueDepth):
    """Queue depth (due now or waiting for a retry), items in flight, done, dead letters, recent failures."""

    model_config = ConfigDict(from_attributes=True)

    dead_letters: list[WritebackDeadLetter]
    recent_failures: list[WritebackFailure]
    last_run: WritebackRun | None


class WritebackRetry(BaseModel):
    """Which dead-lettered items to queue again: `{"all": true}` or `{"item_record_ids": [...]}`."""

    all: bool = False
    item_record_ids: list[int] | None = Field(default=None, min_length=1, max_length=MAX_RETRY_IDS)

    @model_validator(mode="after")
    def _one_selection(self) -> Self:
        if self.all == (self.item_record_ids is not None):
            raise ValueError("give either all=true or item_record_ids, not both and not neither")
        return self


class WritebackRetryPublic(BaseModel):
    """The items queued again, and the asked-for ids that were not dead-lettered (left as they were)."""

    requeued: list[int]
    requeued_count: int
    not_dead: list[int]


@router.get("", response_model=WritebackStatusPublic, responses=error_responses(401, 403, 422))
def read_writeback(
    session: SessionDep, _admin: AdminClient, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> WritebackStatusPublic:
    """The writeback queue: depth, in flight, dead letters and recent failures with Sierra's errors."""
    report = read_writeback_status(session, now=datetime.now(UTC), limit=limit)
    return WritebackStatusPublic.model_validate(report)


@router.post("/retry", response_model=WritebackRetryPublic, responses=error_responses(401, 403, 422))
def create_writeback_retry(session: SessionDep, _admin: AdminClient, body: WritebackRetry) -> WritebackRetryPublic:
    """Queue dead-lettered items again (all, or by id) with a fresh attempt count."""
    result = retry_dead_letters(session, now=datetime.now(UTC), item_record_ids=body.item_record_ids)
    return WritebackRetryPublic(requeued=result.requeued, requeued_count=len(result.requeued), not_dead=result.not_dead)


class WritebackPreviewPublic(WritebackPreview):
    """One queued item as the writeback would write it: the call number now, the PUT body, the call number after."""

    model_config = ConfigDict(from_attributes=True)


class WritebackDryRunPublic(BaseModel):
    """The next queued items as the writeback would write them; nothing was written."""

    dry_run: Literal[True] = True
    items: list[WritebackPreviewPublic]


@router.get("/dry-run", response_model=WritebackDryRunPublic, responses=error_responses(401, 403, 422, 503))
def read_writeback_dry_run(
    session: SessionDep,
    settings: SettingsDep,
    _admin: AdminClient,
    items: Annotated[int, Query(ge=1, le=MAX_API_DRY_RUN_ITEMS)] = 5,
) -> WritebackDryRunPublic:
    """Read the next queued items from Sierra and show what the writeback would send; writes nothing."""
    timeout = min(settings.sierra_api_client_timeout_seconds, API_DRY_RUN_TIMEOUT_SECONDS)
    previews = preview_writeback(
        session,
        partial(build_sierra_client, settings, timeout_seconds=timeout, retries=1),
        settings=settings,
        items=items,
        now=datetime.now(UTC),
        deadline=time.monotonic() + API_DRY_RUN_SECONDS,
    )
    return WritebackDryRunPublic(items=[WritebackPreviewPublic.model_validate(preview) for preview in previews])
