"""Spine label layout: the classification left-aligned and the signum right-aligned on one line.

The text is set as large as the label's text height allows (its capital height), then shrunk, both
texts alike, until the line fits between the side margins and every glyph (accents above, descenders
below) stays on the label. Text is never cut: below MIN_TEXT_HEIGHT_MM the layout is refused with an
error naming what does not fit. Measures come from the font's metrics (services.label_font), so the
SVG and the PDF put every text at the same place and width.
"""

from dataclasses import dataclass

from tarroitus.errors import InvalidInputError
from tarroitus.services.labels.font import CAP_HEIGHT, GLYPHS, UNITS_PER_EM

HORIZONTAL_MARGIN_MM = 1.5
"""Blank space at the left and right edge (a Brother QL prints 25.9 mm of its 29 mm tape)."""

MIN_GAP_EM = 0.5
"""Least space between the classification and the signum, in font sizes (about two spaces)."""

MIN_TEXT_HEIGHT_MM = 2.5
"""Smallest capital height printed: the original stations' minimum of 30 dots at 300 dpi."""

CD_MATERIAL_CODE = "3"
"""Sierra material code of CDs, which get the smaller label of a preset."""

_CAP = CAP_HEIGHT / UNITS_PER_EM


@dataclass(frozen=True)
class LabelSize:
    """A label in millimetres: width along the text line, height across it, and the capital height of its text."""

    width_mm: float
    height_mm: float
    text_height_mm: float

    def __post_init__(self) -> None:
        if self.width_mm <= 2 * HORIZONTAL_MARGIN_MM:
            raise InvalidInputError(
                f"A label must be wider than its margins ({2 * HORIZONTAL_MARGIN_MM} mm)",
                code="invalid_label_size",
                details=[{"field": "query.width_mm", "message": "too narrow"}],
            )
        if self.height_mm < MIN_TEXT_HEIGHT_MM:
            raise InvalidInputError(
                f"A label must be at least as high as the smallest text ({MIN_TEXT_HEIGHT_MM} mm)",
                code="invalid_label_size",
                details=[{"field": "query.height_mm", "message": "too low"}],
            )
        if not MIN_TEXT_HEIGHT_MM <= self.text_height_mm <= self.height_mm:
            raise InvalidInputError(
                f"The text height must be from {MIN_TEXT_HEIGHT_MM} mm to the label's height ({self.height_mm} mm)",
                code="invalid_label_size",
                details=[{"field": "query.text_height_mm", "message": "out of range"}],
            )


@dataclass(frozen=True)
class LabelPreset:
    """Named label stock: the label for books and the smaller one for CDs (material code 3)."""

    name: str
    description: str
    book: LabelSize
    cd: LabelSize

    def size_for(self, material_code: str | None) -> LabelSize:
        """The CD label for a CD, else the book label."""
        return self.cd if material_code == CD_MATERIAL_CODE else self.book


@dataclass(frozen=True)
class CustomLabel:
    """Label stock given in millimetres; without a text height the text takes half the height, a third on CDs."""

    width_mm: float
    height_mm: float
    text_height_mm: float | None = None

    def size_for(self, material_code: str | None) -> LabelSize:
        """The same label for every material; on CDs smaller text unless a text height was given (60:40, as presets)."""
        text_height = self.text_height_mm
        if text_height is None:
            share = 1 / 3 if material_code == CD_MATERIAL_CODE else 1 / 2
            text_height = min(self.height_mm, max(MIN_TEXT_HEIGHT_MM, self.height_mm * share))
        return LabelSize(self.width_mm, self.height_mm, text_height)


# Stock libraries print spine labels on. The Brother QL sizes follow the original stations (29 mm tape,
# text 60 dots high for books and 40 for CDs at 300 dpi, the CD label long enough to wrap around the
# case); the P-touch book label its default length (200 dots of 12 mm tape at 180 dpi). Its CD label
# is 24 mm rather than the original's 17 mm, which grew with its text: a label of fixed length needs
# that much for a music class such as 78.891 and a signum at the smallest text.
PRESETS: dict[str, LabelPreset] = {
    preset.name: preset
    for preset in (
        LabelPreset(
            "brother-ql-29",
            "Brother QL, DK-22210 continuous paper tape 29 mm",
            book=LabelSize(29, 12, 5.1),
            cd=LabelSize(29, 17, 3.4),
        ),
        LabelPreset(
            "brother-ql-23x23",
            "Brother QL, DK-11221 die-cut square labels 23 x 23 mm",
            book=LabelSize(23, 23, 6),
            cd=LabelSize(23, 23, 4),
        ),
        LabelPreset(
            "brother-pt-12",
            "Brother P-touch, TZe laminated tape 12 mm, text along the tape",
            book=LabelSize(28, 12, 7),
            cd=LabelSize(24, 12, 5),
        ),
        LabelPreset(
            "zebra-38x25",
            "Zebra desktop printers, die-cut labels 1.5 x 1 in (38 x 25 mm)",
            book=LabelSize(38, 25, 8),
            cd=LabelSize(38, 25, 5),
        ),
        LabelPreset(
            "zebra-25x25",
            "Zebra desktop printers, die-cut labels 1 x 1 in (25 x 25 mm)",
            book=LabelSize(25, 25, 6),
            cd=LabelSize(25, 25, 4),
        ),
    )
}
DEFAULT_PRESET = "brother-ql-29"


@dataclass(frozen=True)
class PlacedText:
    """One text of the label line: where it starts and how wide it is at the layout's font size."""

    text: str
    x_mm: float
    width_mm: float


@dataclass(frozen=True)
class LabelLayout:
    """The label as it is drawn: its size, the font size and baseline (from the top edge), and both texts."""

    size: LabelSize
    font_size_mm: float
    baseline_mm: float
    classification: PlacedText
    signum: PlacedText


@dataclass(frozen=True)
class _Measure:
    """A text's extent in ems: advance width, height above the baseline, depth below it."""

    width: float
    height: float
    depth: float


def _measure(field: str, text: str) -> _Measure:
    unprintable = sorted({char for char in text if char not in GLYPHS})
    if unprintable:
        raise InvalidInputError(
            f"The {field} {text!r} has characters the label font cannot print: {' '.join(unprintable)}",
            code="label_unprintable",
            details=[{"field": field, "text": text, "characters": unprintable}],
        )
    glyphs = [GLYPHS[char] for char in text]
    return _Measure(
        width=sum(glyph[0] for glyph in glyphs) / UNITS_PER_EM,
        height=max((glyph[1] for glyph in glyphs), default=0) / UNITS_PER_EM,
        depth=max((glyph[2] for glyph in glyphs), default=0) / UNITS_PER_EM,
    )


def _largest_font_size(size: LabelSize, line_width: float, height: float, depth: float) -> float:
    """The largest font size (mm) at which the line fits the width and its ink stays on the label.

    The capital height is centred on the label, so the baseline lies at (height_mm + cap * s) / 2
    from the top; a glyph `height` above it or `depth` below it must not cross an edge.
    """
    limits = [
        size.text_height_mm / _CAP,
        (size.width_mm - 2 * HORIZONTAL_MARGIN_MM) / line_width,
        size.height_mm / 2 / (_CAP / 2 + depth),
    ]
    if height > _CAP / 2:
        limits.append(size.height_mm / 2 / (height - _CAP / 2))
    return min(limits)


def _does_not_fit(size: LabelSize, texts: dict[str, str], measures: dict[str, _Measure]) -> InvalidInputError:
    smallest = MIN_TEXT_HEIGHT_MM / _CAP
    available = size.width_mm - 2 * HORIZONTAL_MARGIN_MM
    needed = (sum(measure.width for measure in measures.values()) + MIN_GAP_EM) * smallest
    details = [
        {
            "field": field,
            "text": texts[field],
            "width_mm": round(measures[field].width * smallest, 1),
            "available_width_mm": round(available, 1),
        }
        for field in texts
    ]
    if needed > available:
        message = (
            f"The classification {texts['classification']!r} and the signum {texts['signum']!r} need "
            f"{needed:.1f} mm at the smallest text ({MIN_TEXT_HEIGHT_MM} mm capitals); the label has {available:.1f} mm"
        )
    else:
        tallest = max(texts, key=lambda field: measures[field].height + measures[field].depth)
        message = (
            f"The {tallest} {texts[tallest]!r} is too tall for a {size.height_mm} mm label "
            f"at the smallest text ({MIN_TEXT_HEIGHT_MM} mm capitals)"
        )
        details = [detail for detail in details if detail["field"] == tallest]
    return InvalidInputError(message, code="label_does_not_fit", details=details)


def layout_label(classification: str, signum: str, size: LabelSize) -> LabelLayout:
    """Lay out one label line; 422 when a text has a character the font lacks or does not fit at the smallest size."""
    texts = {"classification": classification, "signum": signum}
    measures = {field: _measure(field, text) for field, text in texts.items()}
    line_width = measures["classification"].width + MIN_GAP_EM + measures["signum"].width
    height = max(measure.height for measure in measures.values())
    depth = max(measure.depth for measure in measures.values())
    font_size = _largest_font_size(size, line_width, height, depth)
    if font_size * _CAP < MIN_TEXT_HEIGHT_MM - 1e-9:
        raise _does_not_fit(size, texts, measures)
    signum_width = measures["signum"].width * font_size
    return LabelLayout(
        size=size,
        font_size_mm=font_size,
        baseline_mm=(size.height_mm + _CAP * font_size) / 2,
        classification=PlacedText(classification, HORIZONTAL_MARGIN_MM, measures["classification"].width * font_size),
        signum=PlacedText(signum, size.width_mm - HORIZONTAL_MARGIN_MM - signum_width, signum_width),
    )
