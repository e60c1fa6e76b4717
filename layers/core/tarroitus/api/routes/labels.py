"""Labels: record a printed label (queues the item for writeback) and list an item's prints."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status

from tarroitus.api.auth import PrinterClient, require_role
from tarroitus.api.deps import SessionDep
from tarroitus.api.item_schemas import LabelCreate, LabelEventPublic, LabelEventsPublic, label_event_public
from tarroitus.api.schemas import error_responses
from tarroitus.domain import ClientRole
from tarroitus.services.labels.prints import MAX_ITEM_ID, ExpectedLabel, list_prints, record_print

router = APIRouter(prefix="/items/{item_id}/labels", tags=["labels"])

ItemId = Annotated[int, Path(ge=1, le=MAX_ITEM_ID, description="Sierra item record id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description=(
            "Repeating a request with the same key returns the first result and records nothing; the same key"
            " for another item answers 409, with another body 422 (idempotency_key_mismatch)"
        ),
    ),
]
REPLAY_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"model": LabelEventPublic, "description": "A replay of an earlier request with this key"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LabelEventPublic,
    responses={**REPLAY_RESPONSE, **error_responses(401, 403, 404, 409, 413, 422)},
)
def create_label(
    item_id: ItemId,
    session: SessionDep,
    client: PrinterClient,
    response: Response,
    body: Annotated[LabelCreate | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> LabelEventPublic:
    """Record that the item's label was printed; 409 when it has no classification or is deleted."""
    expected = ExpectedLabel(classification=body.classification, signum=body.signum) if body else None
    printed = record_print(session, item_id=item_id, client=client, idempotency_key=idempotency_key, expected=expected)
    if printed.replayed:
        response.status_code = status.HTTP_200_OK
    return label_event_public(printed)


@router.get(
    "",
    response_model=LabelEventsPublic,
    responses=error_responses(401, 403, 404, 422),
    dependencies=[Depends(require_role(ClientRole.PRINTER))],
)
def read_labels(
    item_id: ItemId, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> LabelEventsPublic:
    """The item's print events, newest first (reprints included)."""
    events = [label_event_public(printed) for printed in list_prints(session, item_id=item_id, limit=limit)]
    return LabelEventsPublic(data=events, count=len(events))
