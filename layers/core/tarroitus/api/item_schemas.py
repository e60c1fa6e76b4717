"""Request and response schemas of the items and labels routes."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tarroitus.services.items import LabelState, WritebackState
from tarroitus.services.labels.prints import PrintedLabel


class LabelPublic(BaseModel):
    """The label as printed: classification left-aligned, signum right-aligned, on one line."""

    model_config = ConfigDict(from_attributes=True)

    line: str | None = Field(description="None when the item has no classification to print", examples=["84.2  ABC"])
    width: int = Field(description="Characters the line is padded to")
    printable: bool = Field(description="False when the item has no classification or is deleted")


class ClientRef(BaseModel):
    """A client, by id and name."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str | None


class LabelStatePublic(BaseModel):
    """Whether the label was printed, how often, when and by whom last, and what that label shows."""

    model_config = ConfigDict(from_attributes=True)

    state: LabelState
    print_count: int
    last_printed_at: datetime | None
    last_printed_by: ClientRef | None
    last_printed_classification: str | None = Field(description="The classification on the label printed last")
    last_printed_signum: str | None = Field(description="The signum on the label printed last")


class WritebackPublic(BaseModel):
    """Where the item stands in the queue that writes the new call number back to Sierra."""

    model_config = ConfigDict(from_attributes=True)

    state: WritebackState
    queued_at: datetime | None
    attempts: int
    completed_at: datetime | None
    last_error: str | None


class ItemPublic(BaseModel):
    """An item's label data."""

    model_config = ConfigDict(from_attributes=True)

    item_id: int = Field(description="Sierra item record id")
    item_number: str | None
    barcode: str | None
    bib_id: int | None
    bib_number: str | None
    title: str | None
    author: str | None
    item_type_code: int | None
    item_type_name: str | None
    material_code: str | None = Field(description='"3" (CD) is printed on the small label')
    material_name: str | None
    location_code: str | None
    call_number: str | None = Field(description="The call number Sierra has now")
    classification: str | None = Field(description="The new classification (override, else the bib's 097)")
    signum: str = Field(description='Three-character signum, or "***" when the bib has no usable main entry')
    label: LabelPublic
    label_state: LabelStatePublic
    reprint_needed: bool = Field(
        description="The classification or signum changed since the last print: the label on the book is outdated"
    )
    writeback: WritebackPublic
    suppressed: bool
    deleted: bool


class ItemsPublic(BaseModel):
    """Items, and the cursor of the next page when there is one."""

    data: list[ItemPublic]
    count: int = Field(description="Items in this response")
    next_after: int | None = Field(default=None, description="Pass as `after` for the next page; null on the last")


class LabelCreate(BaseModel):
    """Optional: what the station printed, checked against the item's current label (409 when different)."""

    model_config = ConfigDict(extra="forbid")

    classification: str | None = Field(default=None, max_length=255)
    signum: str | None = Field(default=None, max_length=8)


class LabelEventPublic(BaseModel):
    """A recorded print of a label."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    client: ClientRef | None
    classification: str
    signum: str
    label_line: str
    printed_at: datetime
    source: str = Field(description='"api" or "legacy" (printed through the legacy protocol)')
    idempotency_key: str | None


class LabelEventsPublic(BaseModel):
    """An item's print events, newest first."""

    data: list[LabelEventPublic]
    count: int


def label_event_public(printed: PrintedLabel) -> LabelEventPublic:
    """The response body of a recorded print."""
    client = None if printed.client_id is None else ClientRef(id=printed.client_id, name=printed.client_name)
    return LabelEventPublic(
        id=printed.id,
        item_id=printed.item_id,
        client=client,
        classification=printed.classification,
        signum=printed.signum,
        label_line=printed.label_line,
        printed_at=printed.printed_at,
        source=printed.source,
        idempotency_key=printed.idempotency_key,
    )
