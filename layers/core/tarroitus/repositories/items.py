"""Item reads for the label workflow: by barcode, by id, filtered lists and counts."""

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import Session

from tarroitus.models import Client, Item, WritebackEntry, WritebackStatus


class LabelState(enum.StrEnum):
    """Whether an item's label has been printed."""

    NEVER_PRINTED = "never_printed"
    PRINTED = "printed"


class WritebackState(enum.StrEnum):
    """An item's writeback state: its queue status, or not queued at all."""

    NOT_QUEUED = "not_queued"
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True)
class ItemFilter:
    """What an operator's item list is narrowed to; None means no restriction."""

    label_state: LabelState | None = None
    writeback_state: WritebackState | None = None
    has_classification: bool | None = None
    reprint_needed: bool | None = None
    search: str | None = None
    include_deleted: bool = False


class ItemRow(NamedTuple):
    """An item with its writeback queue entry and the name of the client that printed it last."""

    item: Item
    writeback: WritebackEntry | None
    last_printed_by_name: str | None


@dataclass(frozen=True)
class ItemCounts:
    """Progress figures over the items that are not deleted."""

    total: int
    with_classification: int
    printed: int
    reprint_needed: int


def effective_classification() -> ColumnElement[str | None]:
    """The classification to print: the operator's override, else the bib's 097 (blank counts as none)."""
    return func.coalesce(
        func.nullif(func.btrim(Item.classification_override), ""), func.nullif(func.btrim(Item.classification), "")
    )


def _item_rows() -> Select[Item, WritebackEntry, str]:
    return (
        select(Item, WritebackEntry, Client.name)
        .outerjoin(WritebackEntry, WritebackEntry.item_record_id == Item.item_record_id)
        .outerjoin(Client, Client.id == Item.last_printed_by)
    )


def _as_rows(rows: Sequence[tuple[Item, WritebackEntry | None, str | None]]) -> list[ItemRow]:
    return [ItemRow(item, writeback, name) for item, writeback, name in rows]


def list_by_barcode(session: Session, *, barcode: str) -> list[ItemRow]:
    """Every item with this barcode (Sierra barcodes are not unique), lowest item id first."""
    statement = _item_rows().where(Item.barcode == barcode).order_by(Item.item_record_id)
    return _as_rows(session.execute(statement).all())


def get_row_by_id(session: Session, *, item_record_id: int) -> ItemRow | None:
    """The item with this id, with its writeback entry and last printer's name."""
    statement = _item_rows().where(Item.item_record_id == item_record_id)
    found = session.execute(statement).one_or_none()
    return None if found is None else ItemRow(*found)


def get_by_id(session: Session, *, item_record_id: int) -> Item | None:
    """The item with this id."""
    return session.get(Item, item_record_id)


def lock_by_id(session: Session, *, item_record_id: int) -> Item | None:
    """The item with this id, locked FOR UPDATE so concurrent prints of it are counted one after the other."""
    statement = select(Item).where(Item.item_record_id == item_record_id).with_for_update()
    return session.scalars(statement.execution_options(populate_existing=True)).one_or_none()


def mark_printed(
    session: Session,
    *,
    item: Item,
    printed_at: datetime,
    client_id: uuid.UUID | None,
    classification: str | None,
    signum: str,
) -> None:
    """Count one more print of `item`, by `client_id` at `printed_at`, and keep the label printed on it."""
    session.execute(
        update(Item)
        .where(Item.item_record_id == item.item_record_id)
        .values(
            print_count=Item.print_count + 1,
            last_printed_at=printed_at,
            last_printed_by=client_id,
            last_printed_classification=classification,
            last_printed_signum=signum,
        )
    )
    session.refresh(item)


def _filter_conditions(filters: ItemFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not filters.include_deleted:
        conditions.append(Item.deleted.is_(False))
    if filters.label_state is LabelState.PRINTED:
        conditions.append(Item.print_count > 0)
    elif filters.label_state is LabelState.NEVER_PRINTED:
        conditions.append(Item.print_count == 0)
    if filters.writeback_state is WritebackState.NOT_QUEUED:
        conditions.append(WritebackEntry.item_record_id.is_(None))
    elif filters.writeback_state is not None:
        conditions.append(WritebackEntry.status == WritebackStatus(filters.writeback_state.value))
    if filters.has_classification is not None:
        present = effective_classification().is_not(None)
        conditions.append(present if filters.has_classification else ~present)
    if filters.reprint_needed is not None:
        # The bare column (not `IS TRUE`) is what the partial index ix_items_reprint_needed is defined on.
        needed: ColumnElement[bool] = Item.reprint_needed.expression
        conditions.append(needed if filters.reprint_needed else ~needed)
    if filters.search:
        conditions.append(_search_condition(filters.search))
    return conditions


def _search_condition(search: str) -> ColumnElement[bool]:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(
        Item.barcode.startswith(search, autoescape=True),
        Item.item_number == search,
        Item.best_title.ilike(f"%{escaped}%", escape="\\"),
        Item.best_author.ilike(f"%{escaped}%", escape="\\"),
    )


def list_items(session: Session, *, filters: ItemFilter, after: int | None, limit: int) -> list[ItemRow]:
    """One page of items matching `filters`, by item id, starting after the id `after` (keyset pagination)."""
    conditions = _filter_conditions(filters)
    if after is not None:
        conditions.append(Item.item_record_id > after)
    statement = _item_rows().where(*conditions).order_by(Item.item_record_id).limit(limit)
    return _as_rows(session.execute(statement).all())


def count_items(session: Session) -> ItemCounts:
    """Items not deleted: all of them, with a classification, printed at least once, and needing a reprint."""
    live = Item.deleted.is_(False)
    statement = select(
        func.count().filter(live),
        func.count().filter(live, effective_classification().is_not(None)),
        func.count().filter(live, Item.print_count > 0),
        func.count().filter(Item.reprint_needed),
    ).select_from(Item)
    total, with_classification, printed, reprint_needed = session.execute(statement).one()
    return ItemCounts(
        total=total, with_classification=with_classification, printed=printed, reprint_needed=reprint_needed
    )
