"""Item reads for the label workflow: by barcode, by id, filtered lists and counts."""

import enum
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from tarroitus.models import Client, ClientRole, Item, WritebackEntry, WritebackStatus


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


class Caller(NamedTuple):
    """The client holding a presented key, as a look-up checks it: revoked or not, its role."""

    id: uuid.UUID
    role: ClientRole
    key_hash: str
    revoked: bool


def list_by_barcode_for_key(
    session: Session, *, key_hash: str, barcode: str | None, roles: Collection[ClientRole]
) -> tuple[Caller | None, list[ItemRow]]:
    """The client holding the key with this hash, and the barcode's items when that client may read them.

    One statement, one round trip: the client row outer-joined to the items, which are joined only
    for an active client with one of `roles` (`barcode` None: no items). No client row: unknown key.
    """
    parameters = {"key_hash": key_hash, "barcode": barcode, "roles": list(roles)}
    rows = session.execute(_barcode_for_key_statement(), parameters).all()
    if not rows:
        return None, []
    client_id, role, stored_hash, revoked_at, *_ = rows[0]
    caller = Caller(id=client_id, role=role, key_hash=stored_hash, revoked=revoked_at is not None)
    items = [ItemRow(item, writeback, name) for *_, item, writeback, name in rows if item is not None]
    return caller, items


@cache
def _barcode_for_key_statement() -> Select[uuid.UUID, ClientRole, str, datetime | None, Item, WritebackEntry, str]:
    # Built once: constructing it (the printer alias above all) costs more than running it.
    printer = aliased(Client)
    matches = and_(
        Item.barcode == bindparam("barcode"),
        bindparam("barcode").is_not(None),
        Client.revoked_at.is_(None),
        Client.role.in_(bindparam("roles", expanding=True)),
    )
    return (
        select(Client.id, Client.role, Client.key_hash, Client.revoked_at, Item, WritebackEntry, printer.name)
        .select_from(Client)
        .outerjoin(Item, matches)
        .outerjoin(WritebackEntry, WritebackEntry.item_record_id == Item.item_record_id)
        .outerjoin(printer, printer.id == Item.last_printed_by)
        .where(Client.key_hash == bindparam("key_hash"))
        .order_by(Item.item_record_id)
    )


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


def mark_printed(session: Session, *, item: Item, printed_at: datetime, client_id: uuid.UUID | None) -> None:
    """Count one more print of `item`, by `client_id` at `printed_at`."""
    session.execute(
        update(Item)
        .where(Item.item_record_id == item.item_record_id)
        .values(print_count=Item.print_count + 1, last_printed_at=printed_at, last_printed_by=client_id)
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
    """Items not deleted: all of them, those with a classification, and those printed at least once."""
    live = Item.deleted.is_(False)
    statement = select(
        func.count().filter(live),
        func.count().filter(live, effective_classification().is_not(None)),
        func.count().filter(live, Item.print_count > 0),
    ).select_from(Item)
    total, with_classification, printed = session.execute(statement).one()
    return ItemCounts(total=total, with_classification=with_classification, printed=printed)
