"""An item's spine label rendered for printing: its current classification and signum on the chosen label stock."""

import enum
from dataclasses import dataclass

from aws_lambda_powertools import Tracer
from sqlalchemy.orm import Session

from tarroitus.errors import InvalidInputError, NotFoundError
from tarroitus.repositories import items as items_repository
from tarroitus.services.labels.layout import DEFAULT_PRESET, PRESETS, CustomLabel, LabelPreset, LabelSize, layout_label
from tarroitus.services.labels.prints import printable_label
from tarroitus.services.labels.render import PDF_MEDIA_TYPE, SVG_MEDIA_TYPE, render_pdf, render_svg

tracer = Tracer(auto_patch=False)


class LabelFormat(enum.StrEnum):
    """What a rendered label is written as."""

    SVG = "svg"
    PDF = "pdf"


@dataclass(frozen=True)
class RenderedLabel:
    """A rendered label, the size it was laid out at, and the preset that size came from (None: a custom size)."""

    body: bytes
    media_type: str
    size: LabelSize
    preset: str | None
    font_size_mm: float


def preset_of(name: str) -> LabelPreset:
    """The preset called `name`; 422 naming the presets when there is none."""
    preset = PRESETS.get(name)
    if preset is None:
        message = f"Unknown label size {name!r}; the presets are {', '.join(PRESETS)}"
        raise InvalidInputError(
            message, code="invalid_label_size", details=[{"field": "query.size", "allowed": list(PRESETS)}]
        )
    return preset


@tracer.capture_method(capture_response=False)
def render_item_label(
    session: Session,
    *,
    item_id: int,
    label_format: LabelFormat,
    preset: str | None = None,
    custom: CustomLabel | None = None,
) -> RenderedLabel:
    """The item's label on `custom` stock, else on the preset's (default: DEFAULT_PRESET), sized for its material.

    404 for an unknown item, 409 when it is deleted or has no classification, 422 when the text does not fit.
    """
    item = items_repository.get_by_id(session, item_record_id=item_id)
    if item is None:
        raise NotFoundError(f"Item {item_id} not found", code="item_not_found")
    classification, signum = printable_label(items_repository.item_record_of(item))
    stock: LabelPreset | CustomLabel = custom or preset_of(preset or DEFAULT_PRESET)
    size = stock.size_for(item.material_code)
    preset_name = stock.name if isinstance(stock, LabelPreset) else None
    layout = layout_label(classification, signum, size)
    if label_format is LabelFormat.PDF:
        body, media_type = render_pdf(layout), PDF_MEDIA_TYPE
    else:
        body, media_type = render_svg(layout), SVG_MEDIA_TYPE
    return RenderedLabel(body, media_type, size, preset_name, layout.font_size_mm)
