"""Sierra item + bib JSON and legacy upload rows into item rows."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from tarroitus.repositories.item_upserts import BIB_COLUMNS, SYNC_COLUMNS
from tarroitus.services.signum import SIGNUM_MARKER
from tarroitus.services.sync.item_mapping import (
    LEGACY_UPLOAD_COLUMNS,
    RowError,
    check_digit,
    deletion_of,
    first_bib_id,
    is_deleted,
    legacy_columns,
    main_entry_of,
    map_bib,
    map_sierra_item,
    record_id_of,
    record_number,
)
from tests.uploads import LEGACY_HEADER, map_legacy_row

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


def test_record_id_of_reads_record_numbers_and_database_ids() -> None:
    # Given: Sierra's database ids are the record number plus the type letter shifted 32 bits left
    item_id, bib_id = (ord("i") << 32) + 1000123, (ord("b") << 32) + 3000001
    # When / Then
    assert record_id_of(1000123, "i") == 1000123
    assert record_id_of((1 << 32) - 1, "i") == (1 << 32) - 1
    assert record_id_of(item_id, "i") == 1000123
    assert record_id_of(bib_id, "b") == 3000001
    assert record_id_of(ord("i") << 32, "i") == 0
    assert record_id_of(bib_id, "i") is None
    assert record_id_of(1 << 32, "i") is None
    assert record_id_of(-1, "i") is None
    assert record_id_of(0, "i") == 0


@pytest.mark.parametrize(
    ("entry", "deleted"),
    [
        ({"id": "1", "deleted": True}, True),
        ({"id": "1", "deleted": False, "deletedDate": "2023-05-06"}, True),
        ({"id": "1", "deletedDate": "2023-05-06"}, True),
        ({"id": "1", "deleted": False, "deletedDate": None}, False),
        ({"id": "1"}, False),
    ],
)
def test_is_deleted_by_flag_or_deletion_date(entry: dict[str, Any], deleted: bool) -> None:
    # Given / When / Then
    assert is_deleted(entry) is deleted


@pytest.mark.parametrize(
    ("deleted_date", "moment"),
    [
        ("2023-05-06", datetime(2023, 5, 6, tzinfo=UTC)),
        ("2023-05-06T07:08:09Z", datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("2023-05-06T07:08:09+02:00", datetime(2023, 5, 6, 5, 8, 9, tzinfo=UTC)),
        ("2023-05-06T07:08:09", datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC)),
        (datetime(2023, 5, 6, 7, 8, 9), datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC)),
        (datetime(2023, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=3))), datetime(2023, 5, 6, 4, 8, 9, tzinfo=UTC)),
        (date(2023, 5, 6), datetime(2023, 5, 6, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_deletion_of_reads_every_form_of_the_deletion_date(deleted_date: object, moment: datetime | None) -> None:
    # Given / When
    item_id, deleted_at = deletion_of({"id": "1000005", "deletedDate": deleted_date})
    # Then: the same moment, always timezone-aware
    assert (item_id, deleted_at) == (1000005, moment)
    assert deleted_at is None or deleted_at.utcoffset() is not None


def test_deletion_of_without_a_date() -> None:
    # Given / When / Then
    assert deletion_of({"id": 1000006, "deleted": True}) == (1000006, None)


def test_first_bib_id_is_the_first_of_the_items_bibs() -> None:
    # Given / When / Then
    assert first_bib_id({"bibIds": ["3000002", "3000001"]}) == 3000002
    assert first_bib_id({"bibIds": []}) is None
    assert first_bib_id({"bibIds": None}) is None
    assert first_bib_id({}) is None


def test_main_entry_keeps_only_the_signum_headings_in_record_order() -> None:
    # Given: every heading the signum reads, among fields it does not
    var_fields: list[dict[str, Any]] = [
        {"fieldTag": "t", "marcTag": "245", "ind2": "4", "subfields": [{"tag": "a", "content": "The title"}]},
        {"fieldTag": "i", "marcTag": "020", "subfields": [{"tag": "a", "content": "978-951"}]},
        {"fieldTag": "a", "marcTag": "110", "ind1": "2", "subfields": [{"tag": "a", "content": "Yhdistys"}]},
        {"fieldTag": "b", "marcTag": "700", "subfields": [{"tag": "a", "content": "Added, Entry"}]},
        {"fieldTag": "a", "marcTag": "111", "ind1": "2", "subfields": [{"tag": "a", "content": "Kokous"}]},
        {"fieldTag": "u", "marcTag": "130", "ind1": "0", "subfields": [{"tag": "a", "content": "Kalevala"}]},
        {"fieldTag": "c", "marcTag": "097", "subfields": [{"tag": "a", "content": "84.2"}]},
        {"fieldTag": "y", "content": "no MARC tag"},
        {"fieldTag": "a", "marcTag": None, "content": "null MARC tag"},
        {"fieldTag": "a", "marcTag": 100, "ind1": "1", "subfields": [{"tag": "a", "content": "Kivi, Aleksis"}]},
    ]
    # When
    main_entry = main_entry_of(var_fields)
    # Then
    assert [str(field["marcTag"]) for field in main_entry] == ["245", "110", "111", "130", "100"]
    assert main_entry[0] == var_fields[0] and main_entry[0] is not var_fields[0]
    assert main_entry_of(None) == main_entry_of([]) == []


def test_map_bib_reads_author_title_material_and_bib_number() -> None:
    # Given
    bib = {**BIB, "author": "  Waltari, Mika ", "title": " Sinuhe ", "materialType": {"code": "g", "value": "DVD"}}
    # When
    columns = map_bib(bib)
    # Then
    assert columns["bib_record_id"] == 3000001
    assert columns["bib_number"] == "b3000001" + check_digit(3000001)
    assert (columns["best_author"], columns["best_title"]) == ("Waltari, Mika", "Sinuhe")
    assert (columns["material_code"], columns["material_name"]) == ("g", "DVD")
    assert map_bib({"id": "3000002"})["material_code"] is None


def test_map_sierra_item_reads_location_status_type_and_dates() -> None:
    # Given: no itemType (the fixed field's display is used), a location name, a created date
    item = {
        **ITEM,
        "itemType": None,
        "suppressed": False,
        "location": {"code": "h01aa", "name": "Oodi aikuisten aineisto"},
        "status": {"code": "m", "display": "MISSING"},
        "fixedFields": {"61": {"label": "I TYPE", "value": " 22 ", "display": "Lasten kirja"}},
        "barcode": " 31234000000007 ",
    }
    # When
    row = map_sierra_item(item, BIB)
    # Then
    assert (row["location_code"], row["location_name"]) == ("h01aa", "Oodi aikuisten aineisto")
    assert (row["status_code"], row["status_name"]) == ("m", "MISSING")
    assert (row["itype_code_num"], row["item_type_name"]) == (22, "Lasten kirja")
    assert map_sierra_item({**item, "itemType": " Kirja "}, None)["item_type_name"] == "Kirja"
    assert row["barcode"] == "31234000000007"
    assert row["sierra_created_at"] == datetime(2010, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (row["suppressed"], row["deleted"], row["deleted_at"]) == (False, False, None)


def test_map_sierra_item_without_optional_parts_leaves_them_empty() -> None:
    # Given: an item with nothing but its id
    # When
    row = map_sierra_item({"id": "1000001"}, None)
    # Then
    assert row["item_record_id"] == 1000001
    assert row["item_number"] == "i1000001x"
    for column in ("barcode", "location_code", "location_name", "status_code", "status_name", "call_number"):
        assert row[column] is None, column
    assert (row["itype_code_num"], row["item_type_name"]) == (None, None)
    assert (row["sierra_created_at"], row["sierra_updated_at"]) == (None, None)
    assert row["suppressed"] is False


@pytest.mark.parametrize(
    ("value", "number"),
    [(7, 7), ("7", 7), (" 7 ", 7), ("-3", -3), ("1.5", None), ("kirja", None), (True, None), (None, None)],
)
def test_map_sierra_item_item_type_number_is_an_integer_or_none(value: object, number: int | None) -> None:
    # Given
    item = {**ITEM, "fixedFields": {"61": {"label": "I TYPE", "value": value}}}
    # When / Then
    assert map_sierra_item(item, None)["itype_code_num"] == number


def test_map_sierra_item_item_type_number_beyond_bigint_is_none() -> None:
    # Given
    item = {**ITEM, "fixedFields": {"61": {"label": "I TYPE", "value": str(2**63)}}}
    # When / Then
    assert map_sierra_item(item, None)["itype_code_num"] is None
    item["fixedFields"]["61"]["value"] = str(2**63 - 1)
    assert map_sierra_item(item, None)["itype_code_num"] == 2**63 - 1


C_099 = {"fieldTag": "c", "marcTag": "099", "ind1": " ", "ind2": " "}


@pytest.mark.parametrize(
    ("call_number", "var_fields", "expected"),
    [
        ("|a84.2|hHEI", [], "84.2 HEI"),
        ("84.2 HEI", [], "84.2 HEI"),
        ("|a 84.2 |b|hHEI ", [], "84.2 HEI"),
        (
            None,
            [{**C_099, "subfields": [{"tag": "a", "content": " 84.2 "}, {"tag": "h", "content": "HEI"}]}],
            "84.2 HEI",
        ),
        ("", [{**C_099, "content": " 84.2 HEI "}], "84.2 HEI"),
        ("|a ", [{**C_099, "subfields": [], "content": "84.2 HEI"}], "84.2 HEI"),
        (7, [{**C_099, "subfields": [{"tag": "a", "content": None}, {"tag": "h", "content": "HEI"}]}], "HEI"),
        (
            None,
            [
                {"fieldTag": "b", "content": "31234000000007"},
                {**C_099, "content": "84.2 FIRST"},
                {**C_099, "content": "99.1 SECOND"},
            ],
            "84.2 FIRST",
        ),
        (None, [{"fieldTag": "b", "content": "31234000000007"}], None),
        (None, [{**C_099, "content": "   "}], None),
    ],
)
def test_map_sierra_item_call_number_from_callnumber_else_the_c_varfield(
    call_number: object, var_fields: list[dict[str, Any]], expected: str | None
) -> None:
    # Given
    item = {**ITEM, "callNumber": call_number, "varFields": var_fields}
    # When / Then
    assert map_sierra_item(item, None)["call_number"] == expected


def test_legacy_upload_columns_are_the_agents_header_names_in_order() -> None:
    # Given / When / Then: the header the agent's files carry (tests.uploads builds them)
    assert LEGACY_UPLOAD_COLUMNS == LEGACY_HEADER


def test_map_legacy_row_maps_every_column_by_its_header_name() -> None:
    # Given: a row with every column of the agent's TSV, as text
    raw = {
        "item_record_id": "1000010",
        "item_number": "i10000104",
        "barcode": " 31234000000010 ",
        "bib_record_id": "3000002",
        "bib_number": "b30000024",
        "best_author": "Kivi, Aleksis",
        "best_title": "Seitsemän veljestä",
        "itype_code_num": "-3",
        "item_type_name": "Kirja",
        "material_code": "a",
        "material_name": "BOOK",
        "classification": "84.2",
        "shelfmark_json": '[{"marc_tag": "100", "marc_ind1": "1", "tag": "a", "content": "Kivi, Aleksis"}]',
    }
    # When
    row = map_legacy_row(raw)
    # Then
    assert row == {
        "item_record_id": 1000010,
        "item_number": "i10000104",
        "barcode": "31234000000010",
        "bib_record_id": 3000002,
        "bib_number": "b30000024",
        "best_author": "Kivi, Aleksis",
        "best_title": "Seitsemän veljestä",
        "itype_code_num": -3,
        "item_type_name": "Kirja",
        "material_code": "a",
        "material_name": "BOOK",
        "classification": "84.2",
        "main_entry": [
            {
                "fieldTag": "",
                "marcTag": "100",
                "ind1": "1",
                "ind2": " ",
                "subfields": [{"tag": "a", "content": "Kivi, Aleksis"}],
            }
        ],
        "signum": "KIV",
    }


def test_map_legacy_row_reads_typed_parquet_values() -> None:
    # Given: Parquet cells are typed: integers, numbers in text columns, nulls
    raw: dict[str, object] = {
        "item_record_id": 1000010,
        "bib_record_id": None,
        "itype_code_num": "  ",
        "material_code": 3,
        "classification": 84.2,
        "best_title": None,
        "shelfmark_json": None,
    }
    # When
    row = map_legacy_row(raw)
    # Then
    assert row == {
        "item_record_id": 1000010,
        "bib_record_id": None,
        "itype_code_num": None,
        "material_code": "3",
        "classification": "84.2",
        "best_title": None,
        "main_entry": [],
        "signum": SIGNUM_MARKER,
    }


@pytest.mark.parametrize(
    ("raw", "column", "message"),
    [
        ({"item_record_id": True}, "item_record_id", "item_record_id must be an integer, got bool"),
        ({"item_record_id": 1.0}, "item_record_id", "item_record_id must be an integer, got float"),
        ({"item_record_id": "-5"}, "item_record_id", "item_record_id must not be negative"),
        ({"item_record_id": str(2**63)}, "item_record_id", f"item_record_id {2**63} is not a Sierra i record id"),
        ({"item_record_id": None}, "item_record_id", "item_record_id is empty"),
        ({}, "item_record_id", "the header has no item_record_id column"),
        ({"item_record_id": "1", "bib_record_id": "-1"}, "bib_record_id", "bib_record_id must not be negative"),
        (
            {"item_record_id": "1", "bib_record_id": str((ord("i") << 32) + 5)},
            "bib_record_id",
            f"bib_record_id {(ord('i') << 32) + 5} is not a Sierra b record id",
        ),
        ({"item_record_id": "1", "best_title": True}, "best_title", "best_title must be text, got bool"),
        ({"item_record_id": "1", "shelfmark_json": 5}, "shelfmark_json", "shelfmark_json must be a list of objects"),
    ],
)
def test_map_legacy_row_errors_name_the_cell_and_the_problem(raw: dict[str, object], column: str, message: str) -> None:
    # Given / When
    with pytest.raises(RowError) as caught:
        map_legacy_row(raw)
    # Then
    assert caught.value.column == column
    assert str(caught.value).startswith(message)


def test_map_legacy_row_keeps_negative_numbers_outside_ids() -> None:
    # Given / When / Then: only record ids are checked for the database-id form
    assert map_legacy_row({"item_record_id": "1", "itype_code_num": "-5"})["itype_code_num"] == -5


def test_legacy_columns_of_the_full_header() -> None:
    # Given / When
    columns = legacy_columns(list(reversed(LEGACY_UPLOAD_COLUMNS)))
    without_shelfmark = legacy_columns(["barcode", "item_record_id"])
    # Then: in the agent's order, shelfmark_json stored as main entry and signum
    assert columns == (*LEGACY_UPLOAD_COLUMNS[:-1], "main_entry", "signum")
    assert without_shelfmark == ("item_record_id", "barcode")
    with pytest.raises(RowError) as caught:
        legacy_columns(["barcode", "shelfmark_json"])
    assert (caught.value.column, str(caught.value)) == ("item_record_id", "the header has no item_record_id column")


def test_map_sierra_item_takes_the_bib_id_from_the_item_even_without_its_bib() -> None:
    # Given: the bib could not be read
    item = {**ITEM, "bibIds": ["3000009"]}
    # When / Then: the item still names its bib; the bib's own columns stay empty
    row = map_sierra_item(item, None)
    assert (row["bib_record_id"], row["bib_number"], row["classification"]) == (3000009, None, None)


def test_map_legacy_row_integer_limits() -> None:
    # Given / When / Then: ids from 0, any integer the item type's column holds, and no more
    assert map_legacy_row({"item_record_id": "0", "bib_record_id": "0"})["bib_record_id"] == 0
    assert map_legacy_row({"item_record_id": "1", "itype_code_num": str(2**31 - 1)})["itype_code_num"] == 2**31 - 1
    assert map_legacy_row({"item_record_id": "1", "itype_code_num": str(-(2**31))})["itype_code_num"] == -(2**31)
    with pytest.raises(RowError) as outside:
        map_legacy_row({"item_record_id": "1", "itype_code_num": str(2**31)})
    assert str(outside.value) == f"itype_code_num {2**31} is outside {-(2**31)}..{2**31 - 1}"
    with pytest.raises(RowError) as caught:
        map_legacy_row({"item_record_id": "1", "itype_code_num": "-" + "7" * 50})
    assert str(caught.value) == f"itype_code_num must be an integer, got {'-' + '7' * 39!r}"
