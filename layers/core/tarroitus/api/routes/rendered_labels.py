"""Rendered labels: an item's spine label as SVG or PDF at a label size in millimetres, and the size presets."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from tarroitus.api.auth import require_role
from tarroitus.api.deps import SessionDep
from tarroitus.api.label_schemas import LabelPresetsPublic
from tarroitus.api.schemas import error_responses
from tarroitus.domain import ClientRole
from tarroitus.errors import InvalidInputError, TarroitusError
from tarroitus.services.labels.layout import DEFAULT_PRESET, MIN_TEXT_HEIGHT_MM, PRESETS, CustomLabel
from tarroitus.services.labels.prints import MAX_ITEM_ID
from tarroitus.services.labels.render import PDF_MEDIA_TYPE, SVG_MEDIA_TYPE
from tarroitus.services.labels.rendered import LabelFormat, render_item_label

router = APIRouter(tags=["labels"], dependencies=[Depends(require_role(ClientRole.PRINTER))])

MAX_LABEL_MM = 300
#: Accept media ranges each format satisfies, with their specificity (an exact type beats `image/*` beats `*/*`).
MEDIA_RANGES = {
    LabelFormat.SVG: {SVG_MEDIA_TYPE: 2, "image/*": 1, "*/*": 0},
    LabelFormat.PDF: {PDF_MEDIA_TYPE: 2, "application/*": 1, "*/*": 0},
}
LABEL_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The label: SVG (the default) or PDF",
        "content": {SVG_MEDIA_TYPE: {"schema": {"type": "string"}}, PDF_MEDIA_TYPE: {"schema": {"type": "string"}}},
    }
}


class NotAcceptableError(TarroitusError):
    """The Accept header admits neither SVG nor PDF."""

    status_code = 406
    code = "not_acceptable"


def _quality(part: str) -> tuple[str, float]:
    media, *parameters = (piece.strip() for piece in part.split(";"))
    quality = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = min(max(float(value), 0.0), 1.0)
            except ValueError:
                quality = 0.0
    return media.lower(), quality


def negotiated_format(accept: str | None) -> LabelFormat:
    """SVG or PDF, whichever `accept` prefers (its most specific matching range decides); SVG without a header."""
    if not accept or not accept.strip():
        return LabelFormat.SVG
    ranges = [_quality(part) for part in accept.split(",") if part.strip()]
    ranked = []
    for label_format, accepted in MEDIA_RANGES.items():
        matches = [(accepted[media], quality) for media, quality in ranges if media in accepted]
        if matches:
            specificity, quality = max(matches)
            ranked.append((quality, specificity, label_format is LabelFormat.SVG, label_format))
    best = max(ranked, default=None)
    if best is None or best[0] <= 0:
        raise NotAcceptableError("The label is served as image/svg+xml or application/pdf")
    return best[3]


def custom_label(width_mm: float | None, height_mm: float | None, text_height_mm: float | None) -> CustomLabel | None:
    """The label stock given in millimetres, or None when none is; 422 naming a missing dimension."""
    if width_mm is None and height_mm is None and text_height_mm is None:
        return None
    if width_mm is None or height_mm is None:
        missing = [name for name, value in (("width_mm", width_mm), ("height_mm", height_mm)) if value is None]
        details = [{"field": f"query.{name}", "message": "required with a custom size"} for name in missing]
        raise InvalidInputError("A custom label size needs width_mm and height_mm", details=details)
    return CustomLabel(width_mm, height_mm, text_height_mm)


@router.get(
    "/items/{item_id}/label",
    response_class=Response,
    responses={**LABEL_CONTENT, **error_responses(401, 403, 404, 406, 409, 422)},
)
def read_item_label(
    session: SessionDep,
    item_id: Annotated[int, Path(ge=1, le=MAX_ITEM_ID, description="Sierra item record id")],
    size: Annotated[
        str | None,
        Query(
            description=f"A preset (`GET /label-sizes`); default {DEFAULT_PRESET}",
            json_schema_extra={"enum": list(PRESETS)},
        ),
    ] = None,
    width_mm: Annotated[float | None, Query(gt=0, le=MAX_LABEL_MM, description="Custom size: along the text")] = None,
    height_mm: Annotated[float | None, Query(gt=0, le=MAX_LABEL_MM, description="Custom size: across the text")] = None,
    text_height_mm: Annotated[
        float | None,
        Query(
            gt=0, le=MAX_LABEL_MM, description="Custom size: capital height; default half the height, a third on CDs"
        ),
    ] = None,
    label_format: Annotated[
        LabelFormat | None, Query(alias="format", description="Wins over the Accept header")
    ] = None,
    accept: Annotated[str | None, Header(description="image/svg+xml (default) or application/pdf")] = None,
) -> Response:
    """The item's spine label: classification left, signum right, shrunk to fit (422 naming what does not fit)."""
    custom = custom_label(width_mm, height_mm, text_height_mm)
    if custom is not None and size is not None:
        details = [{"field": "query.size", "message": "give a preset or width_mm and height_mm, not both"}]
        raise InvalidInputError("Give a label size preset or a custom size, not both", details=details)
    rendered = render_item_label(
        session,
        item_id=item_id,
        label_format=label_format or negotiated_format(accept),
        preset=size,
        custom=custom,
    )
    extension = "pdf" if rendered.media_type == PDF_MEDIA_TYPE else "svg"
    headers = {
        "Content-Disposition": f'inline; filename="label-{item_id}.{extension}"',
        "Vary": "Accept",
        "X-Label-Preset": rendered.preset or "custom",
        "X-Label-Width-Mm": f"{rendered.size.width_mm:g}",
        "X-Label-Height-Mm": f"{rendered.size.height_mm:g}",
    }
    return Response(content=rendered.body, media_type=rendered.media_type, headers=headers)


@router.get("/label-sizes", response_model=LabelPresetsPublic, responses=error_responses(401, 403))
def read_label_sizes() -> LabelPresetsPublic:
    """The label size presets, each with its book and CD label, and the smallest text a label is shrunk to."""
    return LabelPresetsPublic.of(list(PRESETS.values()), default=DEFAULT_PRESET, min_text_height_mm=MIN_TEXT_HEIGHT_MM)
