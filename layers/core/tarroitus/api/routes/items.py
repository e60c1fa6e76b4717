"""Items: label data by barcode for printer stations, and the operators' item list."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from tarroitus.api.auth import require_role
from tarroitus.api.barcode_lookup import PrinterItemRows
from tarroitus.api.deps import SessionDep
from tarroitus.api.item_schemas import ItemPublic, ItemsPublic
from tarroitus.api.schemas import error_responses
from tarroitus.domain import ClientRole
from tarroitus.services.items import (
    BARCODE_PATTERN,
    LABEL_WIDTH,
    ItemFilter,
    LabelState,
    WritebackState,
    describe_barcode_items,
    list_items,
)
from tarroitus.services.labels.prints import MAX_ITEM_ID

router = APIRouter(prefix="/items", tags=["items"])

MAX_PAGE_SIZE = 500


@router.get(
    "",
    response_model=ItemsPublic,
    responses=error_responses(401, 403, 422),
    dependencies=[Depends(require_role(ClientRole.PRINTER))],
)
def read_items(
    session: SessionDep,
    label_state: LabelState | None = None,
    writeback_state: WritebackState | None = None,
    has_classification: bool | None = None,
    reprint_needed: Annotated[
        bool | None, Query(description="Only items whose label is outdated (true), or only the others (false)")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Barcode prefix, exact item number, or part of the title or author",
        ),
    ] = None,
    include_deleted: bool = False,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ITEM_ID, description="The `next_after` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> ItemsPublic:
    """List items by item id, filtered by label, reprint and writeback state (keyset pagination with `after`)."""
    filters = ItemFilter(
        label_state=label_state,
        writeback_state=writeback_state,
        has_classification=has_classification,
        reprint_needed=reprint_needed,
        search=q,
        include_deleted=include_deleted,
    )
    page = list_items(session, filters=filters, after=after, limit=limit)
    data = [ItemPublic.model_validate(item) for item in page.items]
    return ItemsPublic(data=data, count=len(data), next_after=page.next_after)


@router.get("/{barcode}", response_model=ItemsPublic, responses=error_responses(401, 403, 404, 422))
async def read_items_by_barcode(
    rows: PrinterItemRows,
    barcode: Annotated[
        str, Path(description=f"Must match {BARCODE_PATTERN}", json_schema_extra={"pattern": BARCODE_PATTERN})
    ],
    label_width: Annotated[int, Query(ge=8, le=120, description="Characters in the label line")] = LABEL_WIDTH,
) -> ItemsPublic:
    """The label data of every item with this barcode (Sierra barcodes are not unique), live items first.

    The key check and the item query are one statement (`api/barcode_lookup.py`).
    """
    items = describe_barcode_items(rows, barcode=barcode, width=label_width)
    return ItemsPublic(data=[ItemPublic.model_validate(item) for item in items], count=len(items))
