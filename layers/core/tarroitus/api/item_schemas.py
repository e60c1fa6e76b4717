"""Request and response schemas of the items and labels routes.

The item's schemas are the services' item read models under their public names and descriptions; only a field
holding another read model is declared again, to show that model's public schema.
"""

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tarroitus.services import items
from tarroitus.services.labels.prints import PrintedLabel


class _FromAttributes(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LabelPublic(items.LabelView, _FromAttributes):
    """The label as printed: classification left-aligned, signum right-aligned, on one line."""


class ClientRef(items.PrintedBy, _FromAttributes):
    """A client, by id and name."""


class LabelStatePublic(items.LabelStateView, _FromAttributes):
    """Whether the label was printed, how often, when and by whom last, and what that label shows."""

    last_printed_by: ClientRef | None


class WritebackPublic(items.WritebackView, _FromAttributes):
    """Where the item stands in the queue that writes the new call number back to Sierra."""


class ItemPublic(items.ItemView, _FromAttributes):
    """An item's label data."""

    label: LabelPublic
    label_state: LabelStatePublic
    writeback: WritebackPublic


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
    return LabelEventPublic.model_validate({**asdict(printed), "client": client})
