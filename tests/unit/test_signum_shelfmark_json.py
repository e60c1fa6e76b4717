"""The legacy sync agent's shelfmark_json column, read into Sierra-style varFields."""

import json
from typing import Any

import pytest

from tarroitus.services.signum import ShelfmarkParseError, compute_signum, parse_shelfmark_json


def row(marc_tag: str, ind1: str, ind2: str, field_type_code: str, tag: str, content: str) -> dict[str, Any]:
    """Build one shelfmark_json object (one subfield)."""
    return {
        "marc_tag": marc_tag,
        "marc_ind1": ind1,
        "marc_ind2": ind2,
        "field_type_code": field_type_code,
        "tag": tag,
        "content": content,
    }


WALTARI_ROWS = [
    row("100", "1", " ", "a", "a", "Waltari, Mika,"),
    row("100", "1", " ", "a", "d", "1908-1979."),
    row("245", "1", "0", "t", "a", "Sinuhe"),
    row("245", "1", "0", "t", "b", "egyptiläinen"),
]

WALTARI_FIELDS = [
    {
        "fieldTag": "a",
        "marcTag": "100",
        "ind1": "1",
        "ind2": " ",
        "subfields": [{"tag": "a", "content": "Waltari, Mika,"}, {"tag": "d", "content": "1908-1979."}],
    },
    {
        "fieldTag": "t",
        "marcTag": "245",
        "ind1": "1",
        "ind2": "0",
        "subfields": [{"tag": "a", "content": "Sinuhe"}, {"tag": "b", "content": "egyptiläinen"}],
    },
]


def test_parse_shelfmark_json_json_groups_subfields_into_var_fields() -> None:
    # Given shelfmark_json as JSON, one object per subfield
    raw = json.dumps(WALTARI_ROWS, ensure_ascii=False)
    # When it is parsed
    fields = parse_shelfmark_json(raw)
    # Then consecutive subfields of one field become one Sierra varField
    assert fields == WALTARI_FIELDS


def test_parse_shelfmark_json_python_literal_gives_same_var_fields() -> None:
    # Given shelfmark_json as a Python rendering of the list (single quotes, None)
    raw = repr(WALTARI_ROWS)
    # When it is parsed
    fields = parse_shelfmark_json(raw)
    # Then the result equals the JSON form's
    assert raw.startswith("[{'marc_tag': '100'")
    assert fields == WALTARI_FIELDS


def test_parse_shelfmark_json_result_feeds_compute_signum() -> None:
    # Given a parsed shelfmark_json
    fields = parse_shelfmark_json(repr(WALTARI_ROWS))
    # When the signum is computed from it
    signum = compute_signum(fields)
    # Then it is the author's
    assert signum == "WAL"


def test_parse_shelfmark_json_splits_on_indicator_change() -> None:
    # Given two consecutive 100 rows with different ind1 and a 100 row after a 245 row
    rows = [
        {"marc_tag": "100", "marc_ind1": "0", "marc_ind2": " ", "tag": "a", "content": "Homeros."},
        {"marc_tag": "100", "marc_ind1": "1", "marc_ind2": " ", "tag": "a", "content": "Waltari, Mika."},
        {"marc_tag": "245", "marc_ind1": "1", "marc_ind2": "4", "tag": "a", "content": "The Hobbit"},
        {"marc_tag": "100", "marc_ind1": "1", "marc_ind2": " ", "tag": "a", "content": "Tolkien, J. R. R."},
    ]
    # When they are parsed
    fields = parse_shelfmark_json(json.dumps(rows))
    # Then each change of tag or indicators starts a new field, in order
    assert [(field["marcTag"], field["ind1"], len(field["subfields"])) for field in fields] == [
        ("100", "0", 1),
        ("100", "1", 1),
        ("245", "1", 1),
        ("100", "1", 1),
    ]


def test_parse_shelfmark_json_fills_missing_and_null_values() -> None:
    # Given a row with null indicators, no field_type_code and a numeric content
    raw = "[{'marc_tag': 245, 'marc_ind1': None, 'marc_ind2': None, 'tag': 'a', 'content': 1984}]"
    # When it is parsed
    fields = parse_shelfmark_json(raw)
    # Then blanks become spaces, the tag three digits and the content text
    assert fields == [
        {"fieldTag": "", "marcTag": "245", "ind1": " ", "ind2": " ", "subfields": [{"tag": "a", "content": "1984"}]}
    ]


@pytest.mark.parametrize("raw", ["", "   ", "[]", "null", "None", "()"])
def test_parse_shelfmark_json_empty_values_give_no_fields(raw: str) -> None:
    # Given an empty shelfmark_json value
    # When it is parsed
    fields = parse_shelfmark_json(raw)
    # Then there are no fields
    assert fields == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[{'marc_tag': '100',", "neither JSON nor a Python literal"),
        ("__import__('os').system('true')", "neither JSON nor a Python literal"),
        ('{"marc_tag": "100"}', "must be a list of objects, got dict"),
        ('"text"', "must be a list of objects, got str"),
        ("[1]", "item 0 is not an object"),
        ('[{"tag": "a", "content": "x"}]', "item 0 has no valid marc_tag"),
        ('[{"marc_tag": "10a", "tag": "a"}]', "item 0 has no valid marc_tag"),
        ('[{"marc_tag": "100", "tag": "a", "content": ["x"]}]', "item 0: content must be text, got list"),
    ],
)
def test_parse_shelfmark_json_bad_input_raises_parse_error(raw: str, message: str) -> None:
    # Given malformed shelfmark_json
    # When it is parsed
    with pytest.raises(ShelfmarkParseError) as raised:
        parse_shelfmark_json(raw)
    # Then the error says what is wrong, and is a ValueError for callers that catch those
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_parse_shelfmark_json_long_bad_input_message_is_shortened() -> None:
    # Given a long unparseable value
    raw = "[" + "x" * 5000
    # When it is parsed
    with pytest.raises(ShelfmarkParseError) as raised:
        parse_shelfmark_json(raw)
    # Then the message quotes only the start of it
    assert len(str(raised.value)) < 200


@pytest.mark.parametrize("key", ["marc_ind1", "marc_ind2", "field_type_code", "tag", "content"])
def test_parse_shelfmark_json_names_the_item_and_key_of_a_value_that_is_not_text(key: str) -> None:
    # Given a good first item and a second one with a list where text belongs
    items = [row("100", "1", " ", "a", "a", "Waltari, Mika,"), {**row("245", "1", "0", "t", "a", "Sinuhe"), key: []}]
    # When
    with pytest.raises(ShelfmarkParseError) as raised:
        parse_shelfmark_json(json.dumps(items))
    # Then
    assert str(raised.value) == f"shelfmark_json item 1: {key} must be text, got list"


def test_parse_shelfmark_json_without_tag_and_content_gives_empty_texts() -> None:
    # Given / When
    fields = parse_shelfmark_json('[{"marc_tag": "100"}]')
    # Then
    assert fields == [
        {"fieldTag": "", "marcTag": "100", "ind1": " ", "ind2": " ", "subfields": [{"tag": "", "content": ""}]}
    ]


@pytest.mark.parametrize(("marc_tag", "read_as"), [(0, "000"), (97, "097"), (999, "999"), (" 245 ", "245")])
def test_parse_shelfmark_json_reads_tags_from_0_to_999(marc_tag: object, read_as: str) -> None:
    # Given / When
    fields = parse_shelfmark_json(json.dumps([{"marc_tag": marc_tag, "tag": "a", "content": "x"}]))
    # Then
    assert fields[0]["marcTag"] == read_as


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('[{"marc_tag": 1000}]', "shelfmark_json item 0 has no valid marc_tag: 1000"),
        ('[{"marc_tag": -1}]', "shelfmark_json item 0 has no valid marc_tag: -1"),
        ('[{"marc_tag": true}]', "shelfmark_json item 0 has no valid marc_tag: True"),
        ('[{"marc_tag": "24"}]', "shelfmark_json item 0 has no valid marc_tag: '24'"),
    ],
)
def test_parse_shelfmark_json_quotes_the_bad_tag(raw: str, message: str) -> None:
    # Given / When
    with pytest.raises(ShelfmarkParseError) as raised:
        parse_shelfmark_json(raw)
    # Then
    assert str(raised.value) == message


def test_parse_shelfmark_json_of_something_not_text_names_its_type() -> None:
    # Given / When
    with pytest.raises(ShelfmarkParseError) as raised:
        parse_shelfmark_json(5)  # type: ignore[arg-type]
    # Then
    assert str(raised.value) == "shelfmark_json must be text, got int"


@pytest.mark.parametrize("length", [60, 61])
def test_parse_shelfmark_json_quotes_at_most_60_characters_of_bad_text(length: int) -> None:
    # Given unparseable text of 60 and of 61 characters
    raw = "[" + "x" * (length - 1)
    # When
    with pytest.raises(ShelfmarkParseError) as raised:
        parse_shelfmark_json(raw)
    # Then: the first 60 characters, and "..." when there was more
    preview = raw[:60] + ("..." if length > 60 else "")
    assert str(raised.value) == f"shelfmark_json is neither JSON nor a Python literal: {preview!r}"
