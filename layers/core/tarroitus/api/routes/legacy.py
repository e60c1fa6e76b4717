"""The protocol existing printer stations speak (shared/LEGACY_API.md), served unchanged beside /api/v1.

Bodies are FastAPI's defaults (`{"detail": ...}`), which the stations parse. `GET /itemdata/{barcode}`
answers the lowest-id item with that barcode that is not deleted. `PUT /itemdata/{item_record_id}`
records a print exactly like `POST /api/v1/items/{id}/labels`; see services/labels.py for the
items without a classification.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Response
from sqlalchemy.exc import SQLAlchemyError

from tarroitus.api.barcode_lookup import LegacyPrinterItemRows
from tarroitus.api.deps import EngineDep, SessionDep
from tarroitus.api.legacy_auth import LegacyPrinter
from tarroitus.api.legacy_schemas import (
    LegacyItem,
    LegacyItemAnswer,
    LegacySyncStatus,
    LegacyUpdated,
    legacy_error_responses,
)
from tarroitus.services.health import check_database
from tarroitus.services.items import BARCODE_PATTERN, legacy_item_of
from tarroitus.services.labels.prints import record_legacy_print
from tarroitus.services.status import report_legacy_status

router = APIRouter(tags=["legacy"])


@router.get("/healthz", response_class=Response)
def read_healthz() -> Response:
    """Liveness: 200 with an empty body."""
    return Response(status_code=200)


@router.get("/readiness", response_class=Response, responses={503: {"description": "The database did not answer"}})
def read_legacy_readiness(engine: EngineDep) -> Response:
    """Readiness: 200 when `SELECT 1` succeeds, else 503; empty bodies."""
    try:
        check_database(engine)
    except SQLAlchemyError:
        return Response(status_code=503)
    return Response(status_code=200)


@router.post("/status", response_model=LegacySyncStatus, responses=legacy_error_responses(403))
def create_legacy_status(
    session: SessionDep,
    client: LegacyPrinter,
    internal_hostname: Annotated[str, Form(max_length=255)],
    internal_ip_address: Annotated[str, Form(max_length=64)],
) -> LegacySyncStatus:
    """A station's heartbeat; answers the sync state."""
    state = report_legacy_status(session, client=client, host_name=internal_hostname, ip_address=internal_ip_address)
    return LegacySyncStatus(**state)


@router.get("/itemdata/{barcode}", response_model=LegacyItem, responses=legacy_error_responses(403, 404))
async def read_legacy_item(
    rows: LegacyPrinterItemRows,
    barcode: Annotated[str, Path(title="The barcode of the item to retrieve", pattern=BARCODE_PATTERN)],  # noqa: ARG001 - declared for its 422
) -> LegacyItemAnswer:
    """The label data of the item with this barcode; 404 `Item not found`.

    The key check and the item query are one statement (`api/barcode_lookup.py`); the barcode's pattern
    is checked after the key, so a refused key answers 403 whatever the barcode.
    """
    return LegacyItem.of(legacy_item_of(rows))


@router.put("/itemdata/{item_record_id}", response_model=LegacyUpdated, responses=legacy_error_responses(403, 404))
def update_legacy_item(item_record_id: int, session: SessionDep, client: LegacyPrinter) -> LegacyUpdated:
    """The station printed the item's label: record the print and queue the writeback."""
    record_legacy_print(session, item_id=item_record_id, client=client)
    return LegacyUpdated()
