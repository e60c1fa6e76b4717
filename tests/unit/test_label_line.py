"""The label line and the barcode rule."""

import pytest

from tarroitus.errors import InvalidInputError
from tarroitus.services.items import BARCODE_PATTERN, LABEL_WIDTH, format_label_line, validate_barcode


def test_format_label_line_puts_classification_left_and_signum_right() -> None:
    # Given / When
    line = format_label_line("84.2", "KIV")
    # Then
    assert len(line) == LABEL_WIDTH
    assert line.startswith("84.2 ")
    assert line.endswith(" KIV")
    assert line.split() == ["84.2", "KIV"]


@pytest.mark.parametrize("width", [10, 16, 40])
def test_format_label_line_fills_the_given_width(width: int) -> None:
    # Given / When
    line = format_label_line("1.23", "ABC", width=width)
    # Then
    assert len(line) == width
    assert line[:4] == "1.23"
    assert line[-3:] == "ABC"


def test_format_label_line_never_truncates_what_does_not_fit() -> None:
    # Given
    classification = "99.1234567890123456789"
    # When
    line = format_label_line(classification, "XYZ", width=12)
    # Then
    assert line == f"{classification} XYZ"


def test_format_label_line_without_signum_is_the_padded_classification() -> None:
    # Given / When
    line = format_label_line("84.2", "", width=8)
    # Then
    assert line == "84.2    "


@pytest.mark.parametrize("barcode", ["31234000000001", "1234567890", "ABC_12345.67", "a" * 30, "ÅÄÖ1234567"])
def test_validate_barcode_accepts_the_legacy_rule(barcode: str) -> None:
    # Given / When / Then
    assert validate_barcode(barcode) == barcode


@pytest.mark.parametrize("barcode", ["123456789", "1" * 31, "3123400-000001", "31234 0000001", "3123400000001\n", ""])
def test_validate_barcode_refuses_and_names_the_rule(barcode: str) -> None:
    # Given / When
    with pytest.raises(InvalidInputError) as raised:
        validate_barcode(barcode)
    # Then
    assert raised.value.code == "invalid_barcode"
    assert BARCODE_PATTERN in raised.value.message
    assert raised.value.details[0]["pattern"] == BARCODE_PATTERN
