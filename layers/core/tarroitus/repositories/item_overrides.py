"""Look-ups and bulk writes for the operator's classification overrides."""

from collections.abc import Collection, Iterable
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, TEXT
from sqlalchemy.orm import Session

from tarroitus.models import Item


class OverrideTarget(NamedTuple):
    """What validating an override needs to know about an item."""

    item_record_id: int
    barcode: str | None
    deleted: bool


def list_override_targets(
    session: Session, *, item_record_ids: Collection[int], barcodes: Collection[str]
) -> list[OverrideTarget]:
    """The items with any of these ids or barcodes."""
    if not item_record_ids and not barcodes:
        return []
    statement = select(Item.item_record_id, Item.barcode, Item.deleted).where(
        or_(Item.item_record_id.in_(list(item_record_ids)), Item.barcode.in_(list(barcodes)))
    )
    return [OverrideTarget(*row) for row in session.execute(statement).all()]


def set_classification_overrides(session: Session, *, overrides: Iterable[tuple[int, str]]) -> int:
    """Set each item's classification override in one statement; returns the rows changed."""
    pairs = dict(overrides)
    if not pairs:
        return 0
    statement = text(
        "UPDATE items AS i SET classification_override = o.classification "
        "FROM unnest(:ids, :classifications) AS o(item_record_id, classification) "
        "WHERE i.item_record_id = o.item_record_id "
        "AND i.classification_override IS DISTINCT FROM o.classification"
    ).bindparams(bindparam("ids", type_=ARRAY(BIGINT)), bindparam("classifications", type_=ARRAY(TEXT)))
    result = session.execute(statement, {"ids": list(pairs), "classifications": list(pairs.values())})
    return int(getattr(result, "rowcount", 0))
