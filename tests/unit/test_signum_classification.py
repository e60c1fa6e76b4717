"""The new classification: the bib's MARC 097."""

from typing import Any

import pytest

from tarroitus.services.signum import classification_from_var_fields


def field_097(*contents: str, tag: str = "097") -> dict[str, Any]:
    """Build a Sierra varField with the given subfield a, b, c... contents."""
    return {
        "fieldTag": "y",
        "marcTag": tag,
        "ind1": " ",
        "ind2": " ",
        "subfields": [{"tag": code, "content": content} for code, content in zip("abcdef", contents, strict=False)],
    }


def test_classification_from_var_fields_joins_subfields_with_a_space() -> None:
    # Given a 097 with two subfields, padded with spaces
    var_fields = [field_097(" 84.2 ", "SCI ")]
    # When the classification is read
    classification = classification_from_var_fields(var_fields)
    # Then the stripped contents are joined with one space
    assert classification == "84.2 SCI"


def test_classification_from_var_fields_greatest_of_several() -> None:
    # Given several 097 fields
    var_fields = [field_097("84.2"), field_097("99.1"), field_097("123.45")]
    # When the classification is read
    classification = classification_from_var_fields(var_fields)
    # Then the greatest by string comparison wins
    assert classification == "99.1"


def test_classification_from_var_fields_ignores_other_tags_and_blank_fields() -> None:
    # Given a call number 099, a blank 097 and a real 097
    var_fields = [field_097("99.9", tag="099"), field_097("  ", ""), field_097("84.2")]
    # When the classification is read
    classification = classification_from_var_fields(var_fields)
    # Then only the non-blank 097 counts
    assert classification == "84.2"


def test_classification_from_var_fields_reads_content_without_subfields() -> None:
    # Given a 097 that carries content instead of subfields
    var_fields = [{"fieldTag": "y", "marcTag": "097", "content": " 84.2 "}]
    # When the classification is read
    classification = classification_from_var_fields(var_fields)
    # Then the content is used
    assert classification == "84.2"


@pytest.mark.parametrize(
    "var_fields",
    [
        [],
        [field_097("", "  ")],
        [field_097("84.2", tag="099")],
        None,
        [{"marcTag": "097", "subfields": None}],
        [{"marcTag": "097", "content": 84.2}],
    ],
    ids=["empty", "blank", "other-tag", "none", "subfields-none", "content-not-text"],
)
def test_classification_from_var_fields_none_when_absent(var_fields: Any) -> None:
    # Given no usable 097
    # When the classification is read
    classification = classification_from_var_fields(var_fields)
    # Then there is none
    assert classification is None


def test_classification_from_var_fields_reads_a_numeric_marc_tag() -> None:
    # Given / When / Then
    assert classification_from_var_fields([{"marcTag": 97, "content": "84.2"}]) == "84.2"
