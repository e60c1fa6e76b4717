"""Property tests: the signum functions never raise, whatever Sierra or a sync agent sends."""

import json
import string
import unicodedata
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from tarroitus.services import signum
from tarroitus.services.signum import (
    SIGNUM_MARKER,
    ShelfmarkParseError,
    classification_from_var_fields,
    compute_signum,
    main_entry_text,
    normalise_signum_text,
    parse_shelfmark_json,
    romanise_cyrillic,
)

SIGNUM_CHARACTERS = frozenset(string.ascii_uppercase + string.digits + "ÅÄÖÜØÆ")

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=5)
garbage = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
marc_tags = st.sampled_from(["100", "110", "111", "130", "245", "097", "700"]) | st.integers(-5, 1000) | garbage
indicators = st.sampled_from(["0", "1", "2", "3", "4", " ", "", "x", "#", "10"]) | st.integers(-1, 12) | garbage
subfield = st.fixed_dictionaries(
    {},
    optional={
        "tag": st.sampled_from(["a", "b", "d", "A"]) | garbage,
        "content": st.text() | garbage,
    },
)
var_field = st.fixed_dictionaries(
    {},
    optional={
        "fieldTag": st.sampled_from(["a", "t", "y"]) | garbage,
        "marcTag": marc_tags,
        "ind1": indicators,
        "ind2": indicators,
        "subfields": st.lists(subfield | garbage, max_size=4) | garbage,
        "content": st.text() | garbage,
    },
)
var_fields_ish = st.lists(var_field | garbage, max_size=6) | garbage


@given(var_fields_ish)
def test_compute_signum_any_input_gives_signum_or_marker(var_fields: Any) -> None:
    # Given anything shaped roughly like varFields (or not at all)
    # When the signum is computed
    signum = compute_signum(var_fields)
    # Then it is one to three signum characters, or the marker
    assert signum == SIGNUM_MARKER or (1 <= len(signum) <= 3 and set(signum) <= SIGNUM_CHARACTERS)


@given(var_fields_ish)
def test_compute_signum_agrees_with_main_entry_text(var_fields: Any) -> None:
    # Given anything shaped roughly like varFields
    # When the main entry text and the signum are computed
    text = main_entry_text(var_fields)
    signum = compute_signum(var_fields)
    # Then the signum is the normalised main entry text, cut to three characters
    expected = SIGNUM_MARKER if text is None else normalise_signum_text(text)[:3]
    assert signum == expected


@given(st.text())
def test_normalise_signum_text_any_text_gives_signum_characters(text: str) -> None:
    # Given any text
    # When it is normalised
    normalised = normalise_signum_text(text)
    # Then only signum characters remain
    assert set(normalised) <= SIGNUM_CHARACTERS


@given(var_fields_ish)
def test_classification_from_var_fields_any_input_gives_text_or_none(var_fields: Any) -> None:
    # Given anything shaped roughly like varFields
    # When the classification is read
    classification = classification_from_var_fields(var_fields)
    # Then it is a non-blank stripped string or None
    assert classification is None or (classification and classification == classification.strip())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
shelfmark_keys = st.sampled_from(["marc_tag", "marc_ind1", "marc_ind2", "field_type_code", "tag", "content"])
shelfmark_ish = st.lists(st.dictionaries(shelfmark_keys, json_values) | json_values, max_size=5) | json_values
shelfmark_text = st.text() | st.builds(json.dumps, shelfmark_ish) | st.builds(repr, shelfmark_ish | garbage)


@given(shelfmark_text)
def test_parse_shelfmark_json_any_text_gives_list_or_parse_error(raw: str) -> None:
    # Given arbitrary text, JSON or Python literals
    # When it is parsed as shelfmark_json
    try:
        fields = parse_shelfmark_json(raw)
    except ShelfmarkParseError:
        # Then a parse error is the only exception allowed
        return
    # Then otherwise it is a list of varFields
    assert isinstance(fields, list)
    assert all(isinstance(field, dict) and field["subfields"] for field in fields)


shelfmark_item = st.fixed_dictionaries(
    {
        "marc_tag": st.sampled_from(["100", "110", "111", "130", "245"]),
        "marc_ind1": st.sampled_from(["0", "1", "2", " ", ""]) | st.none(),
        "marc_ind2": st.sampled_from(["0", "2", "4", " "]) | st.none(),
        "field_type_code": st.sampled_from(["a", "t"]),
        "tag": st.sampled_from(["a", "b", "c", "d"]),
        "content": st.text(),
    }
)


@given(st.lists(shelfmark_item, max_size=8), st.booleans())
def test_parse_shelfmark_json_keeps_every_subfield_in_order(items: list[dict[str, Any]], as_json: bool) -> None:
    # Given well-formed shelfmark_json, rendered as JSON or as a Python literal
    raw = json.dumps(items) if as_json else repr(items)
    # When it is parsed
    fields = parse_shelfmark_json(raw)
    # Then every subfield is there once, in order, and signum computation accepts the result
    flattened = [(sub["tag"], sub["content"]) for field in fields for sub in field["subfields"]]
    assert flattened == [(item["tag"], item["content"]) for item in items]
    assert compute_signum(fields)


@example("ᲀᲁᲂ")  # Cyrillic letters outside the main block that upper-case into it
@example("Ꙋ ⷶ")
@example("Åke Ørsted e\u0301")
@given(st.text(max_size=30))
def test_romanise_cyrillic_leaves_text_without_cyrillic_letters_as_the_letter_by_letter_pass_would(text: str) -> None:
    # Given
    normalised = unicodedata.normalize("NFC", text)
    # When
    romanised = romanise_cyrillic(text)
    # Then
    assert romanised == signum._romanised(signum._CYRILLIC_STRESS.sub("", normalised))
