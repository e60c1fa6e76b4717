"""A laid-out label as SVG and as PDF: well-formed, sized in millimetres, the texts where the layout put them."""

import io
import xml.etree.ElementTree as ElementTree

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from tarroitus.services.labels.layout import PRESETS, LabelSize, layout_label
from tarroitus.services.labels.render import POINTS_PER_MM, render_pdf, render_svg

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(document: bytes) -> list[ElementTree.Element]:
    root = ElementTree.fromstring(document)
    return list(root.iter(f"{SVG}text"))


def test_svg_is_sized_in_millimetres_with_both_texts_where_the_layout_put_them() -> None:
    # Given
    layout = layout_label("84.2", "KIV", PRESETS["brother-ql-29"].book)
    # When
    root = ElementTree.fromstring(render_svg(layout))
    # Then
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("29mm", "12mm", "0 0 29 12")
    classification, signum = svg_texts(render_svg(layout))
    assert (classification.text, signum.text) == ("84.2", "KIV")
    assert float(classification.get("x", "")) == pytest.approx(layout.classification.x_mm, abs=1e-3)
    assert float(signum.get("x", "")) == pytest.approx(layout.signum.x_mm, abs=1e-3)
    assert float(signum.get("textLength", "")) == pytest.approx(layout.signum.width_mm, abs=1e-3)
    assert float(classification.get("y", "")) == pytest.approx(layout.baseline_mm, abs=1e-3)
    group = root.find(f"{SVG}g")
    assert group is not None
    assert float(group.get("font-size", "")) == pytest.approx(layout.font_size_mm, abs=1e-3)


def test_svg_escapes_markup_in_the_texts() -> None:
    # Given
    layout = layout_label("<a>&", "A&B", LabelSize(60, 12, 5))
    # When
    document = render_svg(layout)
    # Then
    assert [text.text for text in svg_texts(document)] == ["<a>&", "A&B"]
    assert b"<a>" not in document


def test_pdf_is_one_page_the_size_of_the_label_with_both_texts() -> None:
    # Given
    layout = layout_label("84.2", "ÅSE", PRESETS["zebra-38x25"].book)
    # When
    document = render_pdf(layout)
    # Then
    assert document.startswith(b"%PDF-1.4\n")
    reader = PdfReader(io.BytesIO(document), strict=True)
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert float(page.mediabox.width) == pytest.approx(38 * POINTS_PER_MM, abs=0.01)
    assert float(page.mediabox.height) == pytest.approx(25 * POINTS_PER_MM, abs=0.01)
    font = page["/Resources"]["/Font"]["/F1"]
    assert (font["/BaseFont"], font["/Encoding"]) == ("/Helvetica-Bold", "/WinAnsiEncoding")
    assert page.extract_text().split() == ["84.2", "ÅSE"]
    assert reader.metadata is not None and reader.metadata.title == "84.2 ÅSE"


def test_pdf_places_the_signum_against_the_right_margin() -> None:
    # Given
    layout = layout_label("1.42", "KIV", PRESETS["brother-ql-29"].book)
    page = PdfReader(io.BytesIO(render_pdf(layout))).pages[0]
    # When: the text operations of the page's content stream
    operations = ContentStream(page.get_contents(), page.pdf).operations
    font_sizes = [float(operands[1]) for operands, operator in operations if operator == b"Tf"]
    origins = [(float(operands[4]), float(operands[5])) for operands, operator in operations if operator == b"Tm"]
    shown = [str(operands[0]) for operands, operator in operations if operator == b"Tj"]
    # Then: in points from the bottom-left corner, where the layout put them
    assert shown == ["1.42", "KIV"]
    assert font_sizes == [pytest.approx(layout.font_size_mm * POINTS_PER_MM, abs=1e-2)]
    (left, baseline), (signum_x, signum_baseline) = origins
    assert left / POINTS_PER_MM == pytest.approx(layout.classification.x_mm, abs=1e-2)
    assert signum_x / POINTS_PER_MM == pytest.approx(layout.signum.x_mm, abs=1e-2)
    assert baseline == signum_baseline
    assert baseline / POINTS_PER_MM == pytest.approx(12 - layout.baseline_mm, abs=1e-2)


def test_pdf_escapes_parentheses_and_backslashes() -> None:
    # Given
    layout = layout_label("(84.2)\\", "KIV", LabelSize(60, 12, 5))
    # When
    document = render_pdf(layout)
    # Then
    assert b"(\\(84.2\\)\\\\) Tj" in document
    assert PdfReader(io.BytesIO(document), strict=True).pages[0].extract_text().split() == ["(84.2)\\", "KIV"]


def test_rendering_is_deterministic() -> None:
    # Given
    layout = layout_label("84.2", "KIV", PRESETS["brother-pt-12"].book)
    # When / Then
    assert render_pdf(layout) == render_pdf(layout)
    assert render_svg(layout) == render_svg(layout)
    assert len(render_pdf(layout)) < 1024
