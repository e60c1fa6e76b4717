"""Sierra item + bib JSON and legacy upload rows into item rows."""

from datetime import UTC, datetime
from typing import Any

import pytest

from tarroitus.repositories.item_upserts import BIB_COLUMNS, SYNC_COLUMNS
from tarroitus.services.item_mapping import (
    RowError,
    check_digit,
    deletion_of,
    is_deleted,
    legacy_columns,
    map_bib,
    map_legacy_row,
    map_sierra_item,
    record_number,
)
from tarroitus.services.signum import SIGNUM_MARKER

BIB: dict[str, Any] = {
    "id": "3000001",
    "title": "Sinuhe egyptiläinen",
    "author": "Waltari, Mika",
    "materialType": {"code": "a", "value": "BOOK"},
    "varFields": [
        {"fieldTag": "_", "content": "00000nam a2200000 a 4500"},
        {
            "fieldTag": "a",
            "marcTag": "100",
            "ind1": "1",
            "ind2": " ",
            "subfields": [{"tag": "a", "content": "Waltari, Mika"}],
        },
        {"fieldTag": "t", "marcTag": "245", "ind1": "1", "ind2": "0", "subfields": [{"tag": "a", "content": "Sinuhe"}]},
        {"fieldTag": "c", "marcTag": "097", "ind1": " ", "ind2": " ", "subfields": [{"tag": "a", "content": "84.2"}]},
        {"fieldTag": "c", "marcTag": "097", "ind1": " ", "ind2": " ", "subfields": [{"tag": "a", "content": "85.2"}]},
    ],
}
ITEM: dict[str, Any] = {
    "id": "1000000",
    "updatedDate": "2024-03-04T05:06:07Z",
    "createdDate": "2010-01-02T03:04:05Z",
    "deleted": False,
    "suppressed": True,
    "bibIds": ["3000001"],
    "location": {"code": "h00aa", "name": "Pasila aikuisten aineisto"},
    "status": {"code": "-", "display": "AVAILABLE"},
    "barcode": "31234000000007",
    "callNumber": "|a84.2|hWAL",
    "itemType": "Kirja",
    "fixedFields": {"61": {"label": "I TYPE", "value": "0", "display": "Kirja"}},
    "varFields": [],
}


def test_check_digit_follows_sierra_mod_11() -> None:
    # Given: weights 2, 3, 4... from the rightmost digit
    # When / Then
    assert check_digit(1000000) == "8"  # 1*8
    assert check_digit(1000001) == "x"  # 1*2 + 1*8 = 10
    assert check_digit(1234567) == str((7 * 2 + 6 * 3 + 5 * 4 + 4 * 5 + 3 * 6 + 2 * 7 + 1 * 8) % 11)
    assert record_number("i", 1000000) == "i10000008"


def test_map_sierra_item_sets_every_column_from_item_and_bib() -> None:
    # Given / When
    row = map_sierra_item(ITEM, BIB)
    # Then
    assert set(row) == set(SYNC_COLUMNS)
    assert row["item_record_id"] == 1000000
    assert row["item_number"] == "i10000008"
    assert row["bib_record_id"] == 3000001
    assert row["bib_number"] == "b3000001" + check_digit(3000001)
    assert (row["best_author"], row["best_title"]) == ("Waltari, Mika", "Sinuhe egyptiläinen")
    assert (row["itype_code_num"], row["item_type_name"]) == (0, "Kirja")
    assert (row["material_code"], row["material_name"]) == ("a", "BOOK")
    assert (row["location_code"], row["status_code"], row["status_name"]) == ("h00aa", "-", "AVAILABLE")
    assert row["call_number"] == "84.2 WAL"
    assert row["classification"] == "85.2"
    assert row["signum"] == "WAL"
    assert [field["marcTag"] for field in row["main_entry"]] == ["100", "245"]
    assert (row["suppressed"], row["deleted"], row["deleted_at"]) == (True, False, None)
    assert row["sierra_updated_at"] == datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_map_sierra_item_without_bib_leaves_bib_columns_empty() -> None:
    # Given
    item = {**ITEM, "bibIds": [], "barcode": "  ", "callNumber": None}
    item["varFields"] = [
        {"fieldTag": "b", "content": "BARCODE-FROM-VARFIELD"},
        {"fieldTag": "c", "marcTag": "099", "subfields": [{"tag": "a", "content": "99.1 X"}]},
    ]
    # When
    row = map_sierra_item(item, None)
    # Then
    assert all(row[column] is None for column in BIB_COLUMNS)
    assert row["bib_record_id"] is None
    assert row["barcode"] == "BARCODE-FROM-VARFIELD"
    assert row["call_number"] == "99.1 X"


def test_map_bib_without_main_entry_gives_the_marker() -> None:
    # Given
    bib = {"id": 5, "title": "", "author": None, "varFields": [{"fieldTag": "y", "content": "note"}]}
    # When
    columns = map_bib(bib)
    # Then
    assert columns["signum"] == SIGNUM_MARKER
    assert (columns["best_title"], columns["classification"], columns["main_entry"]) == (None, None, [])


def test_deleted_item_gives_its_id_and_day() -> None:
    # Given
    deleted = {"id": "1000005", "deletedDate": "2023-05-06", "deleted": True}
    # When / Then
    assert is_deleted(deleted)
    assert not is_deleted(ITEM)
    assert deletion_of(deleted) == (1000005, datetime(2023, 5, 6, tzinfo=UTC))


def test_map_legacy_row_reads_text_cells_and_shelfmark_json() -> None:
    # Given
    shelfmark = (
        "[{'marc_tag': '100', 'marc_ind1': '1', 'marc_ind2': ' ', 'field_type_code': 'a', "
        "'tag': 'a', 'content': 'Kivi, Aleksis'}]"
    )
    raw = {
        "item_record_id": "1000010",
        "barcode": "",
        "bib_record_id": str((ord("b") << 32) + 3000002),
        "itype_code_num": "22",
        "classification": " 84.2 ",
        "shelfmark_json": shelfmark,
    }
    # When
    row = map_legacy_row(raw)
    # Then
    assert row["item_record_id"] == 1000010
    assert row["bib_record_id"] == 3000002
    assert row["barcode"] is None
    assert row["itype_code_num"] == 22
    assert row["classification"] == "84.2"
    assert row["signum"] == "KIV"
    assert row["main_entry"][0]["marcTag"] == "100"
    assert "best_title" not in row


def test_map_legacy_row_turns_database_ids_into_record_numbers() -> None:
    # Given: Sierra's database id of item record 1000123
    database_id = (ord("i") << 32) + 1000123
    # When
    row = map_legacy_row({"item_record_id": database_id})
    # Then
    assert row["item_record_id"] == 1000123


@pytest.mark.parametrize(
    ("raw", "column"),
    [
        ({"item_record_id": "12x"}, "item_record_id"),
        ({"item_record_id": ""}, "item_record_id"),
        ({"item_record_id": str((ord("b") << 32) + 5)}, "item_record_id"),
        ({"item_record_id": "1", "itype_code_num": "1.5"}, "itype_code_num"),
        ({"item_record_id": "1", "shelfmark_json": "{not json"}, "shelfmark_json"),
        ({"item_record_id": "1", "best_title": ["a"]}, "best_title"),
    ],
)
def test_map_legacy_row_rejects_bad_cells_naming_the_column(raw: dict[str, object], column: str) -> None:
    # Given / When
    with pytest.raises(RowError) as caught:
        map_legacy_row(raw)
    # Then
    assert caught.value.column == column


def test_legacy_columns_follow_the_header() -> None:
    # Given / When
    columns = legacy_columns(["item_record_id", "barcode", "shelfmark_json", "unknown"])
    # Then
    assert columns == ("item_record_id", "barcode", "main_entry", "signum")
    with pytest.raises(RowError):
        legacy_columns(["barcode"])
