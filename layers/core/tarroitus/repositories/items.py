"""Item reads for the label workflow: by barcode, by id, filtered lists and counts."""

import enum
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, func, or_, select, update
from sqlalchemy.orm import Session

from tarroitus.db import fetch_rows
from tarroitus.domain import ClientRole, WritebackStatus
from tarroitus.models import Client, Item, WritebackEntry


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


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """The item as the label views read it, whether by the single-statement look-up or through the ORM.

    The one definition of an item's readable fields: the look-up selects exactly these columns, and
    `ItemView` (services), the REST and GraphQL item types and the legacy answer are built from it.
    """

    item_record_id: int
    item_number: str | None
    barcode: str | None
    bib_record_id: int | None
    bib_number: str | None
    best_author: str | None
    best_title: str | None
    itype_code_num: int | None
    item_type_name: str | None
    material_code: str | None
    material_name: str | None
    location_code: str | None
    call_number: str | None
    classification: str | None
    classification_override: str | None
    signum: str | None
    main_entry: list[dict[str, Any]] | None
    suppressed: bool
    deleted: bool
    print_count: int
    last_printed_at: datetime | None
    last_printed_by: uuid.UUID | None
    last_printed_classification: str | None
    last_printed_signum: str | None
    reprint_needed: bool


@dataclass(frozen=True, slots=True)
class WritebackRecord:
    """A writeback queue entry as the label views read it."""

    status: WritebackStatus
    queued_at: datetime
    attempts: int
    completed_at: datetime | None
    last_error: str | None


class ItemRow(NamedTuple):
    """An item with its writeback queue entry and the name of the client that printed it last."""

    item: ItemRecord
    writeback: WritebackRecord | None
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
    return [item_row_of(item, writeback, name) for item, writeback, name in rows]


def item_row_of(item: Item, writeback: WritebackEntry | None, name: str | None) -> ItemRow:
    """The read model of a loaded item, its queue entry and the name of its last printer."""
    entry = (
        None if writeback is None else WritebackRecord(*(getattr(writeback, column) for column in _WRITEBACK_COLUMNS))
    )
    return ItemRow(item_record_of(item), entry, name)


def item_record_of(item: Item) -> ItemRecord:
    """The read model of a loaded item."""
    return ItemRecord(*(getattr(item, column) for column in _ITEM_COLUMNS))


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


_ITEM_COLUMNS = tuple(field.name for field in fields(ItemRecord))
_WRITEBACK_COLUMNS = tuple(field.name for field in fields(WritebackRecord))
#: The key's client, outer-joined to the barcode's items (only for an active client with an allowed role).
#: Plain SQL on the driver's cursor: the ORM's and SQLAlchemy's result work would cost more than the query.
_BARCODE_FOR_KEY = f"""
SELECT c.id, c.role, c.key_hash, c.revoked_at IS NOT NULL,
    {", ".join(f"i.{column}" for column in _ITEM_COLUMNS)},
    {", ".join(f"w.{column}" for column in _WRITEBACK_COLUMNS)},
    p.name
FROM clients AS c
LEFT JOIN items AS i
    ON i.barcode = %(barcode)s AND c.revoked_at IS NULL AND c.role::text = ANY(%(roles)s)
LEFT JOIN writeback_queue AS w ON w.item_record_id = i.item_record_id
LEFT JOIN clients AS p ON p.id = i.last_printed_by
WHERE c.key_hash = %(key_hash)s
ORDER BY i.item_record_id
"""
_ITEM_END = 4 + len(_ITEM_COLUMNS)
_WRITEBACK_END = _ITEM_END + len(_WRITEBACK_COLUMNS)


def list_by_barcode_for_key(
    connection: Connection, *, key_hash: str, barcode: str | None, roles: Collection[ClientRole]
) -> tuple[Caller | None, list[ItemRow]]:
    """The client holding the key with this hash, and the barcode's items when that client may read them.

    One statement, one round trip: the client row outer-joined to the items, which are joined only
    for an active client with one of `roles` (`barcode` None: no items). No client row: unknown key.
    """
    parameters = {"key_hash": key_hash, "barcode": barcode, "roles": [role.value for role in roles]}
    rows = fetch_rows(connection, _BARCODE_FOR_KEY, parameters)
    if not rows:
        return None, []
    client_id, role, stored_hash, revoked = rows[0][:4]
    caller = Caller(id=client_id, role=ClientRole(role), key_hash=stored_hash, revoked=revoked)
    return caller, [_item_row(row) for row in rows if row[4] is not None]


def _item_row(row: Sequence[Any]) -> ItemRow:
    writeback = row[_ITEM_END:_WRITEBACK_END]
    entry = None
    if writeback[0] is not None:
        entry = WritebackRecord(WritebackStatus(writeback[0]), *writeback[1:])
    return ItemRow(ItemRecord(*row[4:_ITEM_END]), entry, row[_WRITEBACK_END])


def get_row_by_id(session: Session, *, item_record_id: int) -> ItemRow | None:
    """The item with this id, with its writeback entry and last printer's name."""
    statement = _item_rows().where(Item.item_record_id == item_record_id)
    found = session.execute(statement).one_or_none()
    return None if found is None else item_row_of(*found)


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
