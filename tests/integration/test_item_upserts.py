"""The bulk item upsert: COPY into a temporary table, one INSERT ... ON CONFLICT, only changed rows written."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from tarroitus.models import Item
from tarroitus.repositories import item_upserts
from tarroitus.repositories.item_upserts import (
    SYNC_COLUMNS,
    commit_without_flush,
    mark_items_deleted,
    update_bib_columns,
    upsert_items,
)


def sync_row(item_record_id: int, **overrides: Any) -> dict[str, Any]:
    """A complete synced item row."""
    row: dict[str, Any] = dict.fromkeys(SYNC_COLUMNS)
    row.update(
        item_record_id=item_record_id,
        barcode=f"B{item_record_id}",
        bib_record_id=item_record_id // 10,
        best_title="Täällä Pohjantähden alla",
        classification="84.2",
        signum="LIN",
        main_entry=[{"marcTag": "100", "ind1": "1", "subfields": [{"tag": "a", "content": "Linna, Väinö"}]}],
        suppressed=False,
        deleted=False,
        sierra_updated_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    row.update(overrides)
    return row


def row_versions(session: Session) -> dict[int, str]:
    """Each item's physical tuple address: an UPDATE writes a new tuple, so it changes with every write."""
    rows = session.execute(text("SELECT item_record_id, ctid::text FROM items")).all()
    return {row[0]: row[1] for row in rows}


def test_upsert_items_inserts_then_updates_only_changed_rows(db_session: Session) -> None:
    # Given
    first = upsert_items(db_session, rows=[sync_row(1), sync_row(2), sync_row(3)])
    before = row_versions(db_session)
    # When
    second = upsert_items(db_session, rows=[sync_row(1), sync_row(2, best_title="Uusi nimi"), sync_row(3)])
    # Then
    assert (first.inserted, first.updated) == (3, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 2)
    after = row_versions(db_session)
    assert after[1] == before[1]
    assert after[3] == before[3]
    assert after[2] != before[2]
    assert db_session.get(Item, 2, populate_existing=True).best_title == "Uusi nimi"  # type: ignore[union-attr]


def test_upsert_items_last_row_of_a_repeated_key_wins(db_session: Session) -> None:
    # Given
    rows = [sync_row(7, barcode="first"), sync_row(8), sync_row(7, barcode="last")]
    # When
    counts = upsert_items(db_session, rows=rows)
    # Then
    assert (counts.received, counts.distinct, counts.inserted) == (3, 2, 2)
    assert db_session.scalar(select(Item.barcode).where(Item.item_record_id == 7)) == "last"


def test_upsert_items_never_touches_label_state_or_override(db_session: Session) -> None:
    # Given
    upsert_items(db_session, rows=[sync_row(11)])
    printed_at = datetime(2026, 2, 3, tzinfo=UTC)
    db_session.execute(
        text(
            "UPDATE items SET print_count = 2, last_printed_at = :at, classification_override = '99.9' "
            "WHERE item_record_id = 11"
        ),
        {"at": printed_at},
    )
    # When
    upsert_items(db_session, rows=[sync_row(11, classification="85.2", signum="NEW")])
    # Then
    item = db_session.get(Item, 11, populate_existing=True)
    assert item is not None
    assert (item.classification, item.signum) == ("85.2", "NEW")
    assert (item.print_count, item.last_printed_at, item.classification_override) == (2, printed_at, "99.9")


def test_upsert_items_with_a_column_subset_leaves_other_columns(db_session: Session) -> None:
    # Given
    upsert_items(db_session, rows=[sync_row(21, location_code="h00aa")])
    # When
    upsert_items(db_session, rows=[{"item_record_id": 21, "barcode": "NEW"}], columns=("item_record_id", "barcode"))
    # Then
    item = db_session.get(Item, 21, populate_existing=True)
    assert item is not None
    assert (item.barcode, item.location_code, item.best_title) == ("NEW", "h00aa", "Täällä Pohjantähden alla")


def test_mark_items_deleted_keeps_the_row_and_is_idempotent(db_session: Session) -> None:
    # Given
    upsert_items(db_session, rows=[sync_row(31)])
    db_session.execute(text("UPDATE items SET print_count = 1 WHERE item_record_id = 31"))
    day = datetime(2026, 3, 1, tzinfo=UTC)
    # When
    changed = mark_items_deleted(db_session, deletions=[(31, day), (32, day)])
    again = mark_items_deleted(db_session, deletions=[(31, day), (32, day)])
    # Then
    assert (changed, again) == (2, 0)
    item = db_session.get(Item, 31, populate_existing=True)
    stub = db_session.get(Item, 32, populate_existing=True)
    assert item is not None and stub is not None
    assert (item.deleted, item.deleted_at, item.print_count, item.barcode) == (True, day, 1, "B31")
    assert (stub.deleted, stub.barcode) == (True, None)


def test_update_bib_columns_rewrites_every_item_of_the_bib(db_session: Session) -> None:
    # Given: items 41 and 42 belong to bib 4, item 51 to bib 5
    upsert_items(db_session, rows=[sync_row(41), sync_row(42), sync_row(51)])
    bib = dict.fromkeys(("bib_number", "best_author", "material_code", "material_name"))
    bib.update(bib_record_id=4, best_title="Uusi", classification="85.2", signum="UUS", main_entry=[])
    # When
    changed = update_bib_columns(db_session, bibs=[bib])
    again = update_bib_columns(db_session, bibs=[bib])
    # Then
    assert (changed, again) == (2, 0)
    titles = dict(db_session.execute(select(Item.item_record_id, Item.classification)).all())
    assert titles == {41: "85.2", 42: "85.2", 51: "84.2"}


def awkward_row(item_record_id: int, title: str) -> dict[str, Any]:
    """A row with the values a binary COPY must carry exactly: NULLs, empty and non-ASCII text, JSON, zoned times."""
    helsinki = timezone(timedelta(hours=3))
    return sync_row(
        item_record_id,
        barcode="",
        best_author=None,
        best_title=title,
        call_number='84.2 "LIN"\t\\ Ø',
        main_entry=[
            {"marcTag": "245", "ind1": "1", "ind2": "4", "subfields": [{"tag": "a", "content": title}]},
            {"marcTag": "100", "content": None, "note": 'quote " backslash \\ tab \t', "n": [1, 2.5, True]},
        ],
        sierra_created_at=datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=helsinki),
        sierra_updated_at=datetime(2026, 7, 1, 23, 30, tzinfo=helsinki),
    )


def stored(session: Session, item_record_id: int) -> dict[str, Any]:
    """The synced columns of an item as stored."""
    item = session.get(Item, item_record_id, populate_existing=True)
    assert item is not None
    return {column: getattr(item, column) for column in SYNC_COLUMNS}


def test_upsert_items_stores_awkward_values_exactly_as_new_and_as_changed_rows(db_session: Session) -> None:
    # Given: new keys in ascending order, then the same keys again with other values
    new_rows = [awkward_row(61, "Мастер и Маргарита"), awkward_row(62, "村上春樹 ½ Œuvre")]
    changed_rows = [awkward_row(61, "Ērika — ﬁ"), awkward_row(62, "")]
    # When
    inserted = upsert_items(db_session, rows=new_rows)
    first = [stored(db_session, 61), stored(db_session, 62)]
    updated = upsert_items(db_session, rows=changed_rows)
    second = [stored(db_session, 61), stored(db_session, 62)]
    # Then
    assert (inserted.inserted, updated.updated) == (2, 2)
    assert first == new_rows
    assert second == changed_rows


def test_upsert_items_merges_rows_when_a_key_appears_after_the_range_check(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: item 72 exists, but the range check does not see it (as when another transaction inserts it meanwhile)
    upsert_items(db_session, rows=[sync_row(72, barcode="old")])
    monkeypatch.setattr(item_upserts, "_no_item_between", lambda cursor, first, last: True)
    # When
    counts = upsert_items(db_session, rows=[sync_row(71), sync_row(72, barcode="new"), sync_row(73)])
    # Then
    assert (counts.inserted, counts.updated) == (2, 1)
    barcodes = dict(db_session.execute(select(Item.item_record_id, Item.barcode)).all())
    assert barcodes == {71: "B71", 72: "new", 73: "B73"}


def test_commit_without_flush_applies_to_its_transaction_only(engine: Engine) -> None:
    # Given
    show = text("SHOW synchronous_commit")
    with Session(engine) as session:
        # When
        with session.begin():
            commit_without_flush(session)
            inside = session.scalar(show)
        with session.begin():
            after = session.scalar(show)
    # Then
    assert (inside, after) == ("off", "on")
