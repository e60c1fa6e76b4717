"""The writeback plan: the parts of one item's PUT body that must change, or nothing when Sierra has them all."""

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sierra_simulator.store import replace_field_groups

from tarroitus.services.writeback.plan import (
    PART_CALL_NUMBER,
    PART_INTERNAL_USE,
    PART_INVENTORY_DATE,
    WritebackOptions,
    WritebackPlan,
    call_number_text,
    format_sierra_datetime,
    parse_sierra_moment,
    plan_writeback,
)
from tarroitus.settings import Settings

NOW = datetime(2026, 11, 22, 9, 0, 0, 250_000, tzinfo=UTC)
QUEUED_AT = NOW - timedelta(minutes=5)
ALL = WritebackOptions(set_inventory_date=True, set_internal_use=True, internal_use_field_number=93)
CALL_NUMBER_ONLY = WritebackOptions(set_inventory_date=False, set_internal_use=False)
EMPTY_NOTE = {"fieldTag": "n", "marcTag": "500", "ind1": " ", "ind2": " ", "subfields": []}


def call_number_field(content: str, marc_tag: str = "099") -> dict[str, Any]:
    return {
        "fieldTag": "c",
        "marcTag": marc_tag,
        "ind1": " ",
        "ind2": " ",
        "subfields": [{"tag": "a", "content": content}, {"tag": "h", "content": "HEI"}],
    }


def sierra_item(
    call_number: str | None = "84.2 Etelä-Haaga -kokoelma", marc_tag: str = "099", **fixed: dict[str, Any]
) -> dict[str, Any]:
    """An item as `GET /items/{id}?fields=fixedFields,varFields` returns it, with an empty-subfield note."""
    var_fields: list[dict[str, Any]] = [
        {"fieldTag": "b", "content": "31234000123456"},
        {"fieldTag": "x", "content": "Internal note"},
        EMPTY_NOTE,
    ]
    if call_number is not None:
        var_fields.insert(1, call_number_field(call_number, marc_tag))
    fixed_fields = {"79": {"label": "LOCATION", "value": "h01  "}, "74": {"label": "IUSE3", "value": "0"}}
    fixed_fields.update(fixed)
    return {"id": "1000001", "fixedFields": fixed_fields, "varFields": var_fields}


def plan(item: dict[str, Any], options: WritebackOptions = ALL, classification: str = "678.90") -> WritebackPlan:
    return plan_writeback(item, classification=classification, options=options, now=NOW, queued_at=QUEUED_AT)


def applied(item: dict[str, Any], body: dict[str, Any], inventory_field: str = "69") -> dict[str, Any]:
    """The item after Sierra applied the PUT: per-fieldTag replacement, fixed fields merged, INVDA mirrored."""
    fixed = {**item["fixedFields"], **body.get("fixedFields", {})}
    if "inventoryDate" in body:
        fixed[inventory_field] = {"label": "INVDA", "value": body["inventoryDate"]}
    return {
        **item,
        "varFields": replace_field_groups(item["varFields"], body.get("varFields", [])),
        "fixedFields": fixed,
    }


def test_plan_writeback_puts_the_call_number_group_inventory_date_and_flag_only() -> None:
    # Given an item with an old call number, no flags and a note field with an empty subfield list
    item = sierra_item()
    original = copy.deepcopy(item)
    # When
    planned = plan(item)
    # Then the body carries the one c field and nothing of the other varFields
    assert planned.part_names == (PART_CALL_NUMBER, PART_INVENTORY_DATE, PART_INTERNAL_USE)
    assert planned.body() == {
        "varFields": [
            {
                "fieldTag": "c",
                "marcTag": "099",
                "ind1": " ",
                "ind2": " ",
                "subfields": [{"tag": "a", "content": "678.90 Etelä-Haaga -kokoelma"}, {"tag": "h", "content": "HEI"}],
            }
        ],
        "inventoryDate": "2026-11-22T09:00:00Z",
        "fixedFields": {"93": {"label": "", "value": "1"}},
    }
    assert planned.in_place == ()
    assert (planned.current_call_number, planned.resulting_call_number) == (
        "|a84.2 Etelä-Haaga -kokoelma|hHEI",
        "|a678.90 Etelä-Haaga -kokoelma|hHEI",
    )
    assert item == original


def test_plan_writeback_parts_are_separate_bodies() -> None:
    # Given / When
    planned = plan(sierra_item())
    # Then each part alone is a body of its own key
    assert set(planned.body([PART_CALL_NUMBER])) == {"varFields"}
    assert planned.body([PART_INVENTORY_DATE]) == {"inventoryDate": "2026-11-22T09:00:00Z"}
    assert planned.body([PART_INTERNAL_USE]) == {"fixedFields": {"93": {"label": "", "value": "1"}}}


@pytest.mark.parametrize("marc_tag", ["090", "091", "092", "099"])
def test_plan_writeback_replaces_the_call_number_field_whatever_its_marc_tag(marc_tag: str) -> None:
    # Given an item whose call number sits under another marcTag, with a collection text
    item = sierra_item("84.2 Dekkarit", marc_tag=marc_tag)
    # When
    planned = plan(item, CALL_NUMBER_ONLY)
    # Then that field is rewritten in place (same marcTag, text kept), and no second c field appears
    (field,) = planned.body()["varFields"]
    assert field["marcTag"] == marc_tag
    assert field["subfields"][0] == {"tag": "a", "content": "678.90 Dekkarit"}


def test_plan_writeback_collapses_several_call_number_fields_into_one() -> None:
    # Given an item left with c/090 and an appended c/099 already carrying the new class
    item = sierra_item("84.2 Etelä-Haaga -kokoelma", marc_tag="090")
    item["varFields"].append(call_number_field("678.90", "099"))
    # When
    planned = plan(item, CALL_NUMBER_ONLY)
    # Then the first one with text is kept and rewritten; sending it alone drops the other
    (field,) = planned.body()["varFields"]
    assert (field["marcTag"], field["subfields"][0]["content"]) == ("090", "678.90 Etelä-Haaga -kokoelma")
    after = applied(item, planned.body())
    assert [f for f in after["varFields"] if f["fieldTag"] == "c"] == [field]
    assert plan(after, CALL_NUMBER_ONLY).done


def test_plan_writeback_rewrites_a_plain_call_number_without_markers() -> None:
    # Given a call number held as plain content, without a MARC tag (callNumber "84.2 KIV" on the item)
    item = {"id": "1", "callNumber": "84.2 KIV", "varFields": [{"fieldTag": "c", "content": "84.2 KIV"}]}
    # When
    planned = plan(item, CALL_NUMBER_ONLY)
    # Then the content keeps its form
    assert planned.body() == {"varFields": [{"fieldTag": "c", "content": "678.90 KIV"}]}
    assert (planned.current_call_number, planned.resulting_call_number) == ("84.2 KIV", "678.90 KIV")


def test_plan_writeback_changes_a_plain_content_call_number_with_markers() -> None:
    # Given a call number field without a MARC tag, holding marked content
    item = {"id": "1", "varFields": [{"fieldTag": "c", "content": "|a84.2 Kauhu|hHEI"}]}
    # When / Then
    assert plan(item, CALL_NUMBER_ONLY).body() == {"varFields": [{"fieldTag": "c", "content": "|a678.90 Kauhu|hHEI"}]}


def test_plan_writeback_a_call_number_field_with_empty_subfields_gets_subfield_a() -> None:
    # Given a c field with an empty subfield list before a real one
    item = {"id": "1", "varFields": [{"fieldTag": "c", "marcTag": "099", "subfields": []}]}
    # When
    planned = plan(item, CALL_NUMBER_ONLY)
    # Then the field sent carries subfield a: Sierra refuses an empty list
    assert planned.body()["varFields"] == [
        {"fieldTag": "c", "marcTag": "099", "subfields": [{"tag": "a", "content": "678.90"}]}
    ]


def test_plan_writeback_returns_done_when_everything_is_in_place() -> None:
    # Given an item already written after it was queued
    item = sierra_item(
        "678.90 Etelä-Haaga -kokoelma",
        **{"93": {"label": "INTL USE", "value": "1"}, "69": {"label": "INVDA", "value": "2026-11-22T08:58:00Z"}},
    )
    # When
    planned = plan(item)
    # Then
    assert planned.done
    assert planned.body() == {}
    assert planned.in_place == (PART_CALL_NUMBER, PART_INVENTORY_DATE, PART_INTERNAL_USE)


def test_plan_writeback_puts_only_what_is_missing() -> None:
    # Given the call number and flag are in place but the inventory date predates the queueing
    item = sierra_item(
        "678.90 Etelä-Haaga -kokoelma",
        **{"93": {"label": "INTL USE", "value": "1"}, "69": {"label": "INVDA", "value": "2026-01-01T00:00:00Z"}},
    )
    # When
    planned = plan(item)
    # Then
    assert planned.body() == {"inventoryDate": "2026-11-22T09:00:00Z"}
    assert planned.in_place == (PART_CALL_NUMBER, PART_INTERNAL_USE)


def test_plan_writeback_keeps_the_label_sierra_returned_for_the_flag() -> None:
    # Given
    item = sierra_item(**{"93": {"label": "INTL USE", "value": "0"}})
    # When
    planned = plan(item, WritebackOptions(set_inventory_date=False, set_internal_use=True))
    # Then
    assert planned.body([PART_INTERNAL_USE]) == {"fixedFields": {"93": {"label": "INTL USE", "value": "1"}}}


def test_plan_writeback_honours_the_flag_field_number_and_value() -> None:
    # Given the library's flag is fixed field 74 IUSE3, set to "2"
    item = sierra_item()
    options = WritebackOptions(
        set_inventory_date=False, set_internal_use=True, internal_use_field_number=74, internal_use_value="2"
    )
    # When
    planned = plan(item, options)
    # Then
    assert planned.body([PART_INTERNAL_USE]) == {"fixedFields": {"74": {"label": "IUSE3", "value": "2"}}}
    done = sierra_item("678.90 Etelä-Haaga -kokoelma", **{"74": {"label": "IUSE3", "value": 2}})
    assert plan(done, options).done


def test_plan_writeback_leaves_the_internal_use_field_alone_when_told() -> None:
    # Given an item whose field 93 is a usage counter at 3
    item = sierra_item(**{"93": {"label": "INTL USE", "value": "3"}})
    # When the policy is to leave it alone
    planned = plan(item, WritebackOptions(set_inventory_date=True, set_internal_use=False))
    # Then the counter is not in the body
    assert planned.part_names == (PART_CALL_NUMBER, PART_INVENTORY_DATE)
    assert "fixedFields" not in planned.body()


def test_plan_writeback_appends_a_call_number_field_with_the_configured_marc_tag() -> None:
    # Given an item without a call number field, in a library whose new fields are 090
    item = sierra_item(call_number=None)
    # When
    planned = plan(item, WritebackOptions(call_number_marc_tag="090", set_inventory_date=False, set_internal_use=False))
    # Then
    assert planned.body() == {
        "varFields": [
            {
                "fieldTag": "c",
                "marcTag": "090",
                "ind1": " ",
                "ind2": " ",
                "subfields": [{"tag": "a", "content": "678.90"}],
            }
        ]
    }
    assert planned.current_call_number is None
    assert planned.resulting_call_number == "|a678.90"


def test_plan_writeback_shows_the_top_level_call_number_when_there_is_no_c_field() -> None:
    # Given / When
    planned = plan({"id": "1", "callNumber": "84.2 HEI", "fixedFields": {}}, CALL_NUMBER_ONLY)
    # Then
    assert planned.current_call_number == "84.2 HEI"
    assert [field["fieldTag"] for field in planned.body()["varFields"]] == ["c"]


def test_plan_writeback_adds_subfield_a_to_a_call_number_field_without_one() -> None:
    # Given a 099 with only subfield h
    item = sierra_item()
    item["varFields"][1]["subfields"] = [{"tag": "h", "content": "HEI"}]
    # When / Then
    assert plan(item, CALL_NUMBER_ONLY).body()["varFields"][0]["subfields"] == [
        {"tag": "a", "content": "678.90"},
        {"tag": "h", "content": "HEI"},
    ]


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
    planned = plan(item)
    # Then
    assert (not planned.done) is expected_put
    if expected_put:
        assert planned.body() == {"inventoryDate": "2026-11-22T09:00:00Z"}


def test_plan_writeback_reads_the_inventory_date_from_the_configured_fixed_field() -> None:
    # Given a library whose Sierra mirrors inventoryDate in field 63, stamped after the queueing
    item = sierra_item(
        "678.90 Etelä-Haaga -kokoelma",
        **{"93": {"label": "", "value": "1"}, "63": {"label": "INVDA", "value": "2026-11-22T08:59:00Z"}},
    )
    # When / Then field 63 says it is done; field 69 (absent) would not
    assert plan(item, WritebackOptions(inventory_date_field_number=63)).done
    assert plan(item).part_names == (PART_INVENTORY_DATE,)


def test_plan_writeback_ignores_a_top_level_inventory_date() -> None:
    # Given a top-level inventoryDate, which a GET never returns
    item = sierra_item("678.90 Etelä-Haaga -kokoelma", **{"93": {"label": "", "value": "1"}})
    item["inventoryDate"] = "2026-11-22T08:59:00Z"
    # When / Then only the mirroring fixed field counts
    assert plan(item).part_names == (PART_INVENTORY_DATE,)


def test_plan_writeback_refuses_an_empty_classification() -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="empty"):
        plan(sierra_item(), classification=" ")


def test_writeback_options_follow_the_settings() -> None:
    # Given
    settings = Settings(
        sierra_update_set_invda=False,
        sierra_update_invda_field_number=63,
        sierra_update_set_iuse3=True,
        sierra_update_iuse3_value="2",
        sierra_update_iuse3_field_number=74,
        sierra_update_call_number_marc_tag="090",
    )
    # When
    options = WritebackOptions.from_settings(settings)
    # Then
    assert options == WritebackOptions(
        call_number_marc_tag="090",
        set_inventory_date=False,
        inventory_date_field_number=63,
        set_internal_use=True,
        internal_use_value="2",
        internal_use_field_number=74,
    )


def test_call_number_text_is_sierras_marked_form() -> None:
    # Given / When / Then
    assert call_number_text(call_number_field("84.2")) == "|a84.2|hHEI"
    assert call_number_text({"fieldTag": "c", "content": "84.2 HEI"}) == "84.2 HEI"
    assert call_number_text({"fieldTag": "c"}) == ""


def test_format_sierra_datetime_is_utc_without_fractions() -> None:
    # Given a moment in Helsinki time
    moment = datetime(2026, 11, 22, 11, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=2)))
    # When / Then
    assert format_sierra_datetime(moment) == "2026-11-22T09:00:00Z"
    with pytest.raises(ValueError, match="timezone"):
        format_sierra_datetime(moment.replace(tzinfo=None))
    assert parse_sierra_moment("2026-11-22T09:00:00") == datetime(2026, 11, 22, 9, tzinfo=UTC)


subfield_contents = st.text(alphabet="0123456789. ,;abcÄö-|", max_size=20)


@given(
    call_number=subfield_contents,
    marc_tag=st.sampled_from(["090", "091", "092", "099"]),
    extra_call_fields=st.integers(min_value=0, max_value=2),
    classification=st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3})?\Z"),
)
def test_plan_writeback_applied_once_leaves_nothing_to_do_and_one_call_number(
    call_number: str, marc_tag: str, extra_call_fields: int, classification: str
) -> None:
    # Given an item planned and the plan applied the way Sierra applies a PUT
    item = sierra_item(call_number, marc_tag=marc_tag)
    item["varFields"].extend(call_number_field("1.4") for _ in range(extra_call_fields))
    planned = plan(item, classification=classification)
    assert not planned.done
    written = applied(item, planned.body())
    # When / Then nothing is left to do, the item has one c field, the other fields are as they were
    assert plan(written, classification=classification).done
    assert len([field for field in written["varFields"] if field["fieldTag"] == "c"]) == 1
    others = [field for field in written["varFields"] if field.get("fieldTag") != "c"]
    assert others == [field for field in item["varFields"] if field.get("fieldTag") != "c"]
    assert all(field.get("subfields") != [] for field in planned.body().get("varFields", []))
