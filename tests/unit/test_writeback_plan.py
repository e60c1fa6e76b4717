"""The writeback plan: the minimal PUT body for one item, or None when Sierra already has it all."""

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tarroitus.services.writeback_plan import (
    WritebackOptions,
    find_call_number_field,
    format_sierra_datetime,
    parse_sierra_moment,
    plan_writeback,
)
from tarroitus.settings import Settings

NOW = datetime(2026, 11, 22, 9, 0, 0, 250_000, tzinfo=UTC)
QUEUED_AT = NOW - timedelta(minutes=5)
ALL = WritebackOptions(set_inventory_date=True, set_internal_use=True, internal_use_field_number=93)
CALL_NUMBER_ONLY = WritebackOptions(set_inventory_date=False, set_internal_use=False)


def sierra_item(call_number: str | None = "84.2 Etelä-Haaga -kokoelma", **fixed: dict[str, Any]) -> dict[str, Any]:
    """An item as `GET /items/{id}?fields=fixedFields,varFields` returns it."""
    var_fields: list[dict[str, Any]] = [
        {"fieldTag": "b", "content": "31234000123456"},
        {"fieldTag": "x", "content": "Internal note"},
    ]
    if call_number is not None:
        var_fields.insert(
            1,
            {
                "fieldTag": "c",
                "marcTag": "099",
                "ind1": " ",
                "ind2": " ",
                "subfields": [{"tag": "a", "content": call_number}, {"tag": "h", "content": "HEI"}],
            },
        )
    fixed_fields = {"79": {"label": "LOCATION", "value": "h01  "}, "74": {"label": "IUSE3", "value": "0"}}
    fixed_fields.update(fixed)
    return {"id": "1000001", "fixedFields": fixed_fields, "varFields": var_fields}


def plan(item: dict[str, Any], options: WritebackOptions = ALL, classification: str = "678.90") -> Any:
    return plan_writeback(item, classification=classification, options=options, now=NOW, queued_at=QUEUED_AT)


def test_plan_writeback_sets_call_number_inventory_date_and_flag() -> None:
    # Given an item with an old call number and no flags
    item = sierra_item()
    original = copy.deepcopy(item)
    # When
    body = plan(item)
    # Then
    assert body is not None
    assert set(body) == {"varFields", "inventoryDate", "fixedFields"}
    assert body["inventoryDate"] == "2026-11-22T09:00:00Z"
    assert body["fixedFields"] == {"93": {"label": "", "value": "1"}}
    expected_fields = copy.deepcopy(original["varFields"])
    expected_fields[1]["subfields"][0]["content"] = "678.90 Etelä-Haaga -kokoelma"
    assert body["varFields"] == expected_fields
    assert item == original


def test_plan_writeback_returns_none_when_everything_is_in_place() -> None:
    # Given an item already written after it was queued
    item = sierra_item(
        "678.90 Etelä-Haaga -kokoelma",
        **{"93": {"label": "INTL USE", "value": "1"}, "69": {"label": "INVDA", "value": "2026-11-22T08:58:00Z"}},
    )
    # When / Then
    assert plan(item) is None


def test_plan_writeback_puts_only_what_is_missing() -> None:
    # Given the call number and flag are in place but the inventory date predates the queueing
    item = sierra_item(
        "678.90 Etelä-Haaga -kokoelma",
        **{"93": {"label": "INTL USE", "value": "1"}, "69": {"label": "INVDA", "value": "2026-01-01T00:00:00Z"}},
    )
    # When
    body = plan(item)
    # Then
    assert body == {"inventoryDate": "2026-11-22T09:00:00Z"}


def test_plan_writeback_keeps_the_label_sierra_returned_for_the_flag() -> None:
    # Given
    item = sierra_item(**{"93": {"label": "INTL USE", "value": "0"}})
    # When
    body = plan(item, WritebackOptions(set_inventory_date=False, set_internal_use=True))
    # Then
    assert body is not None
    assert body["fixedFields"] == {"93": {"label": "INTL USE", "value": "1"}}


def test_plan_writeback_honours_the_flag_field_number() -> None:
    # Given the library's flag is fixed field 74 IUSE3
    item = sierra_item()
    options = WritebackOptions(set_inventory_date=False, set_internal_use=True, internal_use_field_number=74)
    # When
    body = plan(item, options)
    # Then
    assert body is not None
    assert body["fixedFields"] == {"74": {"label": "IUSE3", "value": "1"}}
    done = sierra_item("678.90 Etelä-Haaga -kokoelma", **{"74": {"label": "IUSE3", "value": 1}})
    assert plan(done, options) is None


def test_plan_writeback_with_both_options_off_writes_only_the_call_number() -> None:
    # Given
    item = sierra_item()
    # When
    body = plan(item, CALL_NUMBER_ONLY)
    # Then
    assert body is not None
    assert set(body) == {"varFields"}
    assert plan(sierra_item("678.90 Etelä-Haaga -kokoelma"), CALL_NUMBER_ONLY) is None


def test_plan_writeback_appends_a_call_number_field_when_missing() -> None:
    # Given an item without a call number field
    item = sierra_item(call_number=None)
    # When
    body = plan(item, CALL_NUMBER_ONLY)
    # Then
    assert body is not None
    assert body["varFields"][:-1] == item["varFields"]
    assert body["varFields"][-1] == {
        "fieldTag": "c",
        "marcTag": "099",
        "ind1": " ",
        "ind2": " ",
        "subfields": [{"tag": "a", "content": "678.90"}],
    }


def test_plan_writeback_appends_when_the_item_has_no_var_fields() -> None:
    # Given / When
    body = plan({"id": "1", "fixedFields": {}}, CALL_NUMBER_ONLY)
    # Then
    assert body is not None
    assert [field["fieldTag"] for field in body["varFields"]] == ["c"]


def test_plan_writeback_adds_subfield_a_to_a_call_number_field_without_one() -> None:
    # Given a 099 with only subfield h
    item = sierra_item()
    item["varFields"][1]["subfields"] = [{"tag": "h", "content": "HEI"}]
    # When
    body = plan(item, CALL_NUMBER_ONLY)
    # Then
    assert body is not None
    assert body["varFields"][1]["subfields"] == [{"tag": "a", "content": "678.90"}, {"tag": "h", "content": "HEI"}]


def test_plan_writeback_changes_a_plain_content_call_number_with_markers() -> None:
    # Given a call number field without a MARC tag, holding marked content
    item = {"id": "1", "varFields": [{"fieldTag": "c", "content": "|a84.2 Kauhu|hHEI"}]}
    # When
    body = plan(item, CALL_NUMBER_ONLY)
    # Then
    assert body == {"varFields": [{"fieldTag": "c", "content": "|a678.90 Kauhu|hHEI"}]}


def test_find_call_number_field_prefers_099_over_other_c_fields() -> None:
    # Given an LC call number (090) and a plain c before the 099
    fields = [
        {"fieldTag": "c", "marcTag": "090", "subfields": [{"tag": "a", "content": "PS3552"}]},
        {"fieldTag": "c", "content": "84.2"},
        {"fieldTag": "c", "marcTag": "099", "subfields": [{"tag": "a", "content": "84.2"}]},
    ]
    # When / Then
    assert find_call_number_field(fields) == 2
    assert find_call_number_field(fields[:2]) == 1
    assert find_call_number_field(fields[:1]) is None
    assert find_call_number_field("not a list") is None


@pytest.mark.parametrize(
    ("inventory", "expected_put"),
    [
        ({"69": {"label": "INVDA", "value": "2026-11-22T08:55:00Z"}}, False),
        ({"69": {"label": "INVDA", "value": "2026-11-22T08:54:59Z"}}, True),
        ({"69": {"label": "INVDA", "value": "2026-11-22"}}, False),
        ({"69": {"label": "INVDA", "value": "2026-11-21"}}, True),
        ({"69": {"label": "INVDA", "value": "2026-11-22T10:55:00+02:00"}}, False),
        ({"69": {"label": "INVDA", "value": "not a date"}}, True),
        ({"69": {"label": "INVDA", "value": None}}, True),
        ({}, True),
    ],
)
def test_plan_writeback_inventory_date_counts_from_the_queueing(inventory: dict[str, Any], expected_put: bool) -> None:
    # Given an item whose call number and flag are done
    item = sierra_item("678.90 Etelä-Haaga -kokoelma", **{"93": {"label": "", "value": "1"}, **inventory})
    # When
    body = plan(item)
    # Then
    assert (body is not None) is expected_put
    if expected_put:
        assert body == {"inventoryDate": "2026-11-22T09:00:00Z"}


def test_plan_writeback_reads_a_top_level_inventory_date() -> None:
    # Given
    item = sierra_item("678.90 Etelä-Haaga -kokoelma", **{"93": {"label": "", "value": "1"}})
    item["inventoryDate"] = "2026-11-22T08:59:00Z"
    # When / Then
    assert plan(item) is None


def test_plan_writeback_refuses_an_empty_classification() -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="empty"):
        plan(sierra_item(), classification=" ")


def test_writeback_options_follow_the_settings() -> None:
    # Given
    settings = Settings(
        sierra_update_set_invda=False, sierra_update_set_iuse3=True, sierra_update_iuse3_field_number=74
    )
    # When
    options = WritebackOptions.from_settings(settings)
    # Then
    assert options == WritebackOptions(set_inventory_date=False, set_internal_use=True, internal_use_field_number=74)


def test_format_sierra_datetime_is_utc_without_fractions() -> None:
    # Given a moment in Helsinki time
    moment = datetime(2026, 11, 22, 11, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=2)))
    # When / Then
    assert format_sierra_datetime(moment) == "2026-11-22T09:00:00Z"
    with pytest.raises(ValueError, match="timezone"):
        format_sierra_datetime(moment.replace(tzinfo=None))
    assert parse_sierra_moment("2026-11-22T09:00:00") == datetime(2026, 11, 22, 9, tzinfo=UTC)


subfield_contents = st.text(alphabet="0123456789. ,;abcÄö-|", max_size=20)


@given(call_number=subfield_contents, classification=st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3})?\Z"))
def test_plan_writeback_applied_once_leaves_nothing_to_do(call_number: str, classification: str) -> None:
    # Given an item planned and the plan applied the way Sierra applies a PUT
    item = sierra_item(call_number)
    body = plan(item, classification=classification)
    assert body is not None
    written = {
        **item,
        "varFields": body.get("varFields", item["varFields"]),
        "fixedFields": {**item["fixedFields"], **body.get("fixedFields", {}), "69": {"value": body["inventoryDate"]}},
    }
    # When / Then
    assert plan(written, classification=classification) is None
    others = [field for field in written["varFields"] if field.get("fieldTag") != "c"]
    assert others == [field for field in item["varFields"] if field.get("fieldTag") != "c"]
