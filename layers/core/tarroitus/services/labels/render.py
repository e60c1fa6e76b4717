"""A laid-out spine label as SVG or as a one-page PDF, written directly (no drawing library).

Both draw the same layout: the SVG in millimetres with each text's width pinned (`textLength`), so a
browser whose fallback font is wider still keeps the line on the label; the PDF in points with the
standard Helvetica-Bold font, which every PDF reader has, so nothing is embedded and a label is well
under a kilobyte. Output is deterministic: the same label gives the same bytes.
"""

from html import escape

from tarroitus.services.labels.font import FONT_FAMILIES, FONT_NAME
from tarroitus.services.labels.layout import LabelLayout, PlacedText

SVG_MEDIA_TYPE = "image/svg+xml"
PDF_MEDIA_TYPE = "application/pdf"
POINTS_PER_MM = 72 / 25.4


def _mm(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _svg_text(placed: PlacedText, baseline_mm: float) -> str:
    return (
        f'<text x="{_mm(placed.x_mm)}" y="{_mm(baseline_mm)}" textLength="{_mm(placed.width_mm)}" '
        f'lengthAdjust="spacingAndGlyphs">{escape(placed.text, quote=False)}</text>'
    )


def render_svg(layout: LabelLayout) -> bytes:
    """The label as a standalone SVG document sized in millimetres."""
    width, height = _mm(layout.size.width_mm), _mm(layout.size.height_mm)
    title = f"{layout.classification.text} {layout.signum.text}"
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}">'
        f"<title>{escape(title, quote=False)}</title>"
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f'<g font-family="{escape(FONT_FAMILIES)}" font-weight="700" '
        f'font-size="{_mm(layout.font_size_mm)}" fill="#000">'
        f"{_svg_text(layout.classification, layout.baseline_mm)}"
        f"{_svg_text(layout.signum, layout.baseline_mm)}"
        "</g></svg>\n"
    )
    return document.encode("utf-8")


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding (the layout has checked every character is in the font)."""
    encoded = text.encode("cp1252")
    return b"(" + encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _pdf_text_string(text: str) -> bytes:
    """A PDF text string (document information) in UTF-16 with a byte order mark."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _pt(value_mm: float) -> str:
    return f"{value_mm * POINTS_PER_MM:.3f}".rstrip("0").rstrip(".")


def _pdf_content(layout: LabelLayout) -> bytes:
    baseline = _pt(layout.size.height_mm - layout.baseline_mm)
    lines = [b"0 g BT", f"/F1 {_pt(layout.font_size_mm)} Tf".encode("ascii")]
    for placed in (layout.classification, layout.signum):
        position = f"1 0 0 1 {_pt(placed.x_mm)} {baseline} Tm ".encode("ascii")
        lines.append(position + _pdf_string(placed.text) + b" Tj")
    lines.append(b"ET")
    return b"\n".join(lines) + b"\n"


def render_pdf(layout: LabelLayout) -> bytes:
    """The label as a one-page PDF 1.4 whose page is the label."""
    content = _pdf_content(layout)
    media_box = f"[0 0 {_pt(layout.size.width_mm)} {_pt(layout.size.height_mm)}]".encode("ascii")
    title = _pdf_text_string(f"{layout.classification.text} {layout.signum.text}")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox " + media_box + b" /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /" + FONT_NAME.encode("ascii") + b" /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode("ascii") + b" >>\nstream\n" + content + b"endstream",
        b"<< /Title " + title + b" /Producer (Tarroitus) >>",
    ]
    # The binary comment line marks the file as binary for transfer programs (ISO 32000-1, 7.5.2).
    document = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref_at = len(document)
    document += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        document += f"{offset:010d} 00000 n \n".encode("ascii")
    document += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\n".encode("ascii")
    document += f"startxref\n{xref_at}\n%%EOF\n".encode("ascii")
    return bytes(document)
