"""Label data for items: what a printer station prints for a barcode, and the operators' item list.

The label line (:func:`format_label_line`) puts the classification left-aligned and the signum
right-aligned on one line of :data:`LABEL_WIDTH` characters, the way the printer stations lay out
a spine label. A classification and signum too long to fit together are never cut: they are kept
whole with one space between them, and the line is longer than the width.
"""

import re
import uuid
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import datetime

from aws_lambda_powertools import Tracer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tarroitus import keyset
from tarroitus.domain import ClientRole
from tarroitus.errors import InvalidInputError, NotFoundError
from tarroitus.repositories import items as items_repository
from tarroitus.repositories.items import (
    Caller,
    ItemFilter,
    ItemRecord,
    ItemRow,
    LabelState,
    WritebackRecord,
    WritebackState,
)
from tarroitus.services.api_keys import hash_api_key, hashes_match
from tarroitus.services.signum import SIGNUM_MARKER, compute_signum

__all__ = [
    "BARCODE_PATTERN",
    "LABEL_WIDTH",
    "ItemFilter",
    "ItemPage",
    "ItemView",
    "KeyedLookup",
    "LabelState",
    "LegacyItemView",
    "WritebackState",
    "describe_barcode_items",
    "find_items_by_barcode",
    "find_legacy_item",
    "format_label_line",
    "get_item",
    "legacy_item_of",
    "list_items",
    "look_up_barcode_with_key",
    "validate_barcode",
]
tracer = Tracer(auto_patch=False)

BARCODE_PATTERN = r"^[0-9\.\w]{10,30}$"
"""What a barcode must look like: 10 to 30 letters, digits, underscores or dots (the legacy rule, spelt as the
legacy backend spelt it: its 422 answers quote the pattern, and stations compare them byte for byte)."""

LABEL_WIDTH = 32
"""Default characters in a label line; a station with other label stock asks for its own width."""

_BARCODE = re.compile(BARCODE_PATTERN)


class _ReadModel(BaseModel):
    """An item read model: its fields are written here once; the REST schemas and GraphQL types derive from it."""

    model_config = ConfigDict(frozen=True)


class LabelView(_ReadModel):
    """The label as printed, or why it cannot be."""

    line: str | None = Field(description="None when the item has no classification to print", examples=["84.2  ABC"])
    width: int = Field(description="Characters the line is padded to")
    printable: bool = Field(description="False when the item has no classification or is deleted")


class PrintedBy(_ReadModel):
    """The client that printed an item's label last."""

    id: uuid.UUID
    name: str | None


class LabelStateView(_ReadModel):
    """How often and when an item's label was printed, by whom last, and what that label shows."""

    state: LabelState
    print_count: int
    last_printed_at: datetime | None
    last_printed_by: PrintedBy | None
    last_printed_classification: str | None = Field(description="The classification on the label printed last")
    last_printed_signum: str | None = Field(description="The signum on the label printed last")


class WritebackView(_ReadModel):
    """Where the item stands in the writeback queue."""

    state: WritebackState
    queued_at: datetime | None
    attempts: int
    completed_at: datetime | None
    last_error: str | None


class ItemView(_ReadModel):
    """An item's label data: identity, bibliographic data, classification, signum and label state."""

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
    label: LabelView
    label_state: LabelStateView
    reprint_needed: bool = Field(
        description="The classification or signum changed since the last print: the label on the book is outdated"
    )
    writeback: WritebackView
    suppressed: bool
    deleted: bool


@dataclass(frozen=True)
class LegacyItemView:
    """The item the legacy protocol answers with, its effective classification and its signum."""

    item: ItemRecord
    classification: str | None
    signum: str


@dataclass(frozen=True)
class ItemPage:
    """One page of the item list and the cursor of the next page (None on the last one)."""

    items: list[ItemView]
    next_after: int | None


def validate_barcode(barcode: str) -> str:
    """Return `barcode` if it follows BARCODE_PATTERN, else raise InvalidInputError naming the rule."""
    if _BARCODE.fullmatch(barcode) is None:
        message = f"Barcode must match {BARCODE_PATTERN}: 10 to 30 letters, digits, underscores or dots"
        detail = {"field": "path.barcode", "message": message, "type": "pattern_mismatch", "pattern": BARCODE_PATTERN}
        raise InvalidInputError(message, code="invalid_barcode", details=[detail])
    return barcode


def format_label_line(classification: str, signum: str, width: int = LABEL_WIDTH) -> str:
    """The classification left-aligned and the signum right-aligned in `width` characters (never truncated)."""
    gap = max(1, width - len(classification) - len(signum)) if signum else 0
    return f"{classification}{' ' * gap}{signum}".ljust(width)


def classification_of(item: ItemRecord) -> str | None:
    """The classification to print: the operator's override, else the bib's new classification (097)."""
    for value in (item.classification_override, item.classification):
        if value and value.strip():
            return value.strip()
    return None


def signum_of(item: ItemRecord) -> str:
    """The item's stored signum, else one computed from its stored main entry, else SIGNUM_MARKER."""
    if item.signum and item.signum.strip():
        return item.signum.strip()
    return compute_signum(item.main_entry) if item.main_entry else SIGNUM_MARKER


def label_line_of(item: ItemRecord, width: int = LABEL_WIDTH) -> str | None:
    """The label line of `item`, or None when it has no classification to print."""
    classification = classification_of(item)
    return None if classification is None else format_label_line(classification, signum_of(item), width)


_NOT_QUEUED = WritebackView(
    state=WritebackState.NOT_QUEUED, queued_at=None, attempts=0, completed_at=None, last_error=None
)
"""The writeback state of an item that has no queue entry."""


def writeback_view_of(entry: WritebackRecord | None) -> WritebackView:
    """Where an item with this queue entry (None: none) stands in the writeback queue."""
    if entry is None:
        return _NOT_QUEUED
    return WritebackView.model_validate({**asdict(entry), "state": WritebackState(entry.status.value)})


def describe_item(row: ItemRow, *, width: int = LABEL_WIDTH) -> ItemView:
    """The label data of one item row."""
    item, entry = row.item, row.writeback
    line = label_line_of(item, width)
    printed_by = (
        None if item.last_printed_by is None else PrintedBy(id=item.last_printed_by, name=row.last_printed_by_name)
    )
    record = asdict(item)
    label_state = LabelStateView.model_validate(
        {
            **record,
            "state": LabelState.PRINTED if item.print_count > 0 else LabelState.NEVER_PRINTED,
            "last_printed_by": printed_by,
        }
    )
    # The record's fields the view shows under their own names are taken by name; the others are named here.
    return ItemView.model_validate(
        {
            **record,
            "item_id": item.item_record_id,
            "bib_id": item.bib_record_id,
            "title": item.best_title,
            "author": item.best_author,
            "item_type_code": item.itype_code_num,
            "classification": classification_of(item),
            "signum": signum_of(item),
            "label": LabelView(line=line, width=width, printable=line is not None and not item.deleted),
            "label_state": label_state,
            "writeback": writeback_view_of(entry),
        }
    )


@tracer.capture_method(capture_response=False)
def find_items_by_barcode(session: Session, *, barcode: str, width: int = LABEL_WIDTH) -> list[ItemView]:
    """Every item with `barcode`, live ones first; 422 for a malformed barcode, 404 when there is none."""
    rows = items_repository.list_by_barcode(session, barcode=validate_barcode(barcode))
    return describe_barcode_items(rows, barcode=barcode, width=width)


def describe_barcode_items(rows: list[ItemRow], *, barcode: str, width: int = LABEL_WIDTH) -> list[ItemView]:
    """The label data of a barcode's item rows, live ones first; 422 for a malformed barcode, 404 for no rows."""
    validate_barcode(barcode)
    if not rows:
        raise NotFoundError("No item has this barcode", code="item_not_found")
    rows = sorted(rows, key=lambda row: (row.item.deleted, row.item.item_record_id))
    return [describe_item(row, width=width) for row in rows]


@dataclass(frozen=True)
class KeyedLookup:
    """A barcode look-up that checked the caller's key in the same statement."""

    caller: Caller | None
    """The active client holding the key; None for an unknown or revoked key."""
    rows: list[ItemRow]
    """The barcode's items, lowest id first; empty when there are none or the caller may not read them."""


@tracer.capture_method(capture_response=False)
def look_up_barcode_with_key(
    connection: Connection, *, api_key: str, pepper: str, barcode: str | None, roles: Collection[ClientRole]
) -> KeyedLookup:
    """The caller holding `api_key` and, when its role is in `roles`, the items with `barcode`, in one round trip.

    Revocation takes effect at once: the client row is read by the same statement as the items.
    """
    presented = hash_api_key(api_key, pepper)
    caller, rows = items_repository.list_by_barcode_for_key(
        connection, key_hash=presented, barcode=barcode, roles=roles
    )
    if caller is None or caller.revoked or not hashes_match(presented, caller.key_hash):
        return KeyedLookup(caller=None, rows=[])
    return KeyedLookup(caller=caller, rows=rows)


@tracer.capture_method(capture_response=False)
def get_item(session: Session, *, item_id: int, width: int = LABEL_WIDTH) -> ItemView:
    """The label data of one item; 404 when unknown."""
    row = items_repository.get_row_by_id(session, item_record_id=item_id)
    if row is None:
        raise NotFoundError(f"Item {item_id} not found", code="item_not_found")
    return describe_item(row, width=width)


@tracer.capture_method(capture_response=False)
def list_items(session: Session, *, filters: ItemFilter, after: int | None, limit: int) -> ItemPage:
    """A page of items for operators, by item id; pass the page's `next_after` to get the next one."""
    page = keyset.read_page(
        lambda start, count: items_repository.list_items(session, filters=filters, after=start, limit=count),
        after=after,
        limit=limit,
        key=lambda row: row.item.item_record_id,
    )
    return ItemPage(items=[describe_item(row) for row in page.rows], next_after=page.next_after)


@tracer.capture_method(capture_response=False)
def find_legacy_item(session: Session, *, barcode: str) -> LegacyItemView:
    """The item the legacy protocol answers for a barcode: the lowest-id item that is not deleted."""
    return legacy_item_of(items_repository.list_by_barcode(session, barcode=barcode))


def legacy_item_of(rows: list[ItemRow]) -> LegacyItemView:
    """Of a barcode's item rows (lowest id first), the one the legacy protocol answers: the first not deleted.

    The legacy response holds one item, and a station cannot choose among several; deleted items
    are skipped because a station would print a label for a book that no longer exists in Sierra.
    """
    for row in rows:
        if not row.item.deleted:
            item = row.item
            return LegacyItemView(item=item, classification=classification_of(item), signum=signum_of(item))
    raise NotFoundError("Item not found")
