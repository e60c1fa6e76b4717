"""Spine label layout: largest text that fits, shrinking to the minimum, refusing (422) what still does not fit."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tarroitus.errors import InvalidInputError
from tarroitus.services.labels.font import CAP_HEIGHT, GLYPHS, UNITS_PER_EM
from tarroitus.services.labels.layout import (
    CD_MATERIAL_CODE,
    HORIZONTAL_MARGIN_MM,
    MIN_GAP_EM,
    MIN_TEXT_HEIGHT_MM,
    PRESETS,
    CustomLabel,
    LabelLayout,
    LabelSize,
    layout_label,
)

CAP = CAP_HEIGHT / UNITS_PER_EM
QL_29 = PRESETS["brother-ql-29"].book


def width_em(text: str) -> float:
    return sum(GLYPHS[char][0] for char in text) / UNITS_PER_EM


def ink_extent(layout: LabelLayout) -> tuple[float, float]:
    """Top and bottom of the drawn glyphs, in mm from the label's top edge."""
    text = layout.classification.text + layout.signum.text
    top = layout.baseline_mm - max(GLYPHS[char][1] for char in text) / UNITS_PER_EM * layout.font_size_mm
    bottom = layout.baseline_mm + max(GLYPHS[char][2] for char in text) / UNITS_PER_EM * layout.font_size_mm
    return top, bottom


def test_layout_short_text_takes_the_label_text_height() -> None:
    # When
    layout = layout_label("8", "KIV", PRESETS["zebra-38x25"].book)
    # Then: capitals exactly as high as the preset's text height, centred on the label
    assert layout.font_size_mm * CAP == pytest.approx(8)
    cap_top = layout.baseline_mm - layout.font_size_mm * CAP
    assert cap_top == pytest.approx(25 - layout.baseline_mm)
    assert layout.classification.x_mm == HORIZONTAL_MARGIN_MM
    assert layout.signum.x_mm + layout.signum.width_mm == pytest.approx(38 - HORIZONTAL_MARGIN_MM)


def test_layout_long_text_shrinks_to_the_width_between_the_margins() -> None:
    # Given: text that would be 5.1 mm high only on a much wider label
    classification, signum = "84.21", "HEI"
    assert (width_em(classification) + MIN_GAP_EM + width_em(signum)) * 5.1 / CAP > 26
    # When
    layout = layout_label(classification, signum, QL_29)
    # Then: both texts at one smaller size, left and right aligned, apart by the least gap
    assert MIN_TEXT_HEIGHT_MM <= layout.font_size_mm * CAP < 5.1
    assert layout.classification.x_mm == HORIZONTAL_MARGIN_MM
    assert layout.classification.width_mm == pytest.approx(width_em(classification) * layout.font_size_mm)
    assert layout.signum.x_mm + layout.signum.width_mm == pytest.approx(29 - HORIZONTAL_MARGIN_MM)
    gap = layout.signum.x_mm - (layout.classification.x_mm + layout.classification.width_mm)
    assert gap == pytest.approx(MIN_GAP_EM * layout.font_size_mm)


def test_layout_refuses_text_that_does_not_fit_at_the_smallest_size() -> None:
    # Given
    classification = "84.2 0123456789 LISÄTIETO"
    # When
    with pytest.raises(InvalidInputError) as raised:
        layout_label(classification, "KIV", QL_29)
    # Then: 422 naming both texts, their widths at the smallest size, and the room there is
    error = raised.value
    assert (error.status_code, error.code) == (422, "label_does_not_fit")
    assert [detail["field"] for detail in error.details] == ["classification", "signum"]
    assert error.details[0]["text"] == classification
    smallest = MIN_TEXT_HEIGHT_MM / CAP
    assert error.details[0]["width_mm"] == round(width_em(classification) * smallest, 1)
    assert error.details[0]["available_width_mm"] == 29 - 2 * HORIZONTAL_MARGIN_MM
    assert classification in error.message and "26.0 mm" in error.message


def test_layout_just_above_the_minimum_still_fits() -> None:
    # Given: a label exactly as wide as the line needs at the smallest text
    line_em = width_em("84.2") + MIN_GAP_EM + width_em("KIV")
    width = line_em * MIN_TEXT_HEIGHT_MM / CAP + 2 * HORIZONTAL_MARGIN_MM
    # When
    fits = layout_label("84.2", "KIV", LabelSize(width + 0.01, 12, 5))
    # Then
    assert fits.font_size_mm * CAP == pytest.approx(MIN_TEXT_HEIGHT_MM, abs=0.01)
    with pytest.raises(InvalidInputError):
        layout_label("84.2", "KIV", LabelSize(width - 0.01, 12, 5))


def test_layout_keeps_accents_and_descenders_on_a_flat_label() -> None:
    # Given: a label barely higher than its text, and text with a ring above and parentheses below
    size = LabelSize(60, 6, 5.5)
    # When
    layout = layout_label("(84.2)", "ÅSE", size)
    # Then: the text is smaller than the text height so no glyph crosses an edge
    top, bottom = ink_extent(layout)
    assert top >= -1e-9 and bottom <= size.height_mm + 1e-9
    assert layout.font_size_mm * CAP < 5.5


def test_layout_names_the_tall_text_when_the_height_does_not_fit() -> None:
    # When
    with pytest.raises(InvalidInputError) as raised:
        layout_label("84", "ÅÅÅ", LabelSize(60, 3, 2.5))
    # Then
    assert raised.value.code == "label_does_not_fit"
    assert [detail["field"] for detail in raised.value.details] == ["signum"]
    assert "too tall" in raised.value.message


@pytest.mark.parametrize(
    ("field", "classification", "signum", "character"),
    [
        ("classification", "84.2 Ł", "KIV", "Ł"),
        ("signum", "84.2", "中文", "中"),
    ],
)
def test_layout_refuses_characters_the_font_cannot_print(
    field: str, classification: str, signum: str, character: str
) -> None:
    # When
    with pytest.raises(InvalidInputError) as raised:
        layout_label(classification, signum, QL_29)
    # Then
    assert raised.value.code == "label_unprintable"
    assert raised.value.details[0]["field"] == field
    assert character in raised.value.details[0]["characters"]


@pytest.mark.parametrize(
    ("width", "height", "text_height", "field"),
    [
        (3, 12, 5, "query.width_mm"),
        (29, 2, 2, "query.height_mm"),
        (29, 12, 13, "query.text_height_mm"),
        (29, 12, 2, "query.text_height_mm"),
    ],
)
def test_label_size_refuses_impossible_sizes(width: float, height: float, text_height: float, field: str) -> None:
    # When
    with pytest.raises(InvalidInputError) as raised:
        LabelSize(width, height, text_height)
    # Then
    assert raised.value.code == "invalid_label_size"
    assert raised.value.details[0]["field"] == field


def test_presets_give_cds_their_smaller_label() -> None:
    # Given
    preset = PRESETS["brother-ql-29"]
    # When
    book, cd = preset.size_for("a"), preset.size_for(CD_MATERIAL_CODE)
    # Then
    assert (book, cd) == (preset.book, preset.cd)
    assert cd.text_height_mm < book.text_height_mm
    assert all(p.cd.text_height_mm < p.book.text_height_mm for p in PRESETS.values())
    assert all(p.size_for(None) == p.book for p in PRESETS.values())


def test_custom_labels_take_half_the_height_for_text_and_a_third_on_cds() -> None:
    # Given
    stock = CustomLabel(40, 15)
    # When
    book, cd = stock.size_for("a"), stock.size_for(CD_MATERIAL_CODE)
    # Then
    assert (book.width_mm, book.height_mm, book.text_height_mm) == (40, 15, 7.5)
    assert (cd.width_mm, cd.height_mm, cd.text_height_mm) == (40, 15, 5)
    assert CustomLabel(40, 15, 9).size_for(CD_MATERIAL_CODE).text_height_mm == 9
    assert CustomLabel(40, 4).size_for("a").text_height_mm == MIN_TEXT_HEIGHT_MM


PRINTABLE = st.text(alphabet=st.sampled_from(sorted(GLYPHS)), min_size=1, max_size=24)


@settings(max_examples=300, deadline=None)
@given(
    classification=PRINTABLE,
    signum=PRINTABLE,
    width=st.floats(min_value=3.5, max_value=120),
    height=st.floats(min_value=MIN_TEXT_HEIGHT_MM, max_value=60),
    share=st.floats(min_value=0, max_value=1),
)
def test_layout_either_fits_whole_on_the_label_or_is_refused(
    classification: str, signum: str, width: float, height: float, share: float
) -> None:
    # Given
    size = LabelSize(width, height, MIN_TEXT_HEIGHT_MM + share * (height - MIN_TEXT_HEIGHT_MM))
    # When
    try:
        layout = layout_label(classification, signum, size)
    except InvalidInputError as error:
        # Then: refused only when even the smallest text would not fit
        assert error.code == "label_does_not_fit"
        smallest = MIN_TEXT_HEIGHT_MM / CAP
        text = classification + signum
        line = (width_em(classification) + MIN_GAP_EM + width_em(signum)) * smallest
        baseline = (height + MIN_TEXT_HEIGHT_MM) / 2
        too_wide = line > width - 2 * HORIZONTAL_MARGIN_MM - 1e-6
        too_tall = baseline - max(GLYPHS[char][1] for char in text) / UNITS_PER_EM * smallest < 1e-6 or (
            baseline + max(GLYPHS[char][2] for char in text) / UNITS_PER_EM * smallest > height - 1e-6
        )
        assert too_wide or too_tall
        return
    # Then: nothing cut, nothing off the label, nothing overlapping, text no smaller than the minimum
    assert layout.font_size_mm * CAP >= MIN_TEXT_HEIGHT_MM - 1e-9
    assert layout.font_size_mm * CAP <= size.text_height_mm + 1e-9
    assert (layout.classification.text, layout.signum.text) == (classification, signum)
    assert layout.classification.x_mm >= HORIZONTAL_MARGIN_MM - 1e-9
    assert layout.signum.x_mm + layout.signum.width_mm <= width - HORIZONTAL_MARGIN_MM + 1e-6
    gap = layout.signum.x_mm - layout.classification.x_mm - layout.classification.width_mm
    assert gap >= MIN_GAP_EM * layout.font_size_mm - 1e-6
    top, bottom = ink_extent(layout)
    assert top >= -1e-6 and bottom <= height + 1e-6
