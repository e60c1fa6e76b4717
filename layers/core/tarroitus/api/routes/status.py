"""Status: client heartbeats, and the backend state for operators."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request

from tarroitus.api.auth import CurrentClient, require_role
from tarroitus.api.client_schemas import ClientPublic
from tarroitus.api.deps import SessionDep
from tarroitus.api.schemas import error_responses
from tarroitus.api.status_schemas import HeartbeatCreate, StatusPublic
from tarroitus.domain import ClientRole
from tarroitus.services.status import Heartbeat, read_backend_status, record_heartbeat

router = APIRouter(prefix="/status", tags=["status"])


@router.post("/heartbeat", response_model=ClientPublic, responses=error_responses(401, 413, 422))
def create_heartbeat(
    request: Request,
    session: SessionDep,
    client: CurrentClient,
    body: Annotated[HeartbeatCreate | None, Body()] = None,
) -> ClientPublic:
    """Report that the client is alive, with its version, host name and printer state (any role)."""
    reported = body or HeartbeatCreate()
    heartbeat = Heartbeat(
        client_version=reported.client_version,
        host_name=reported.host_name,
        ip_address=request.client.host if request.client else None,
        printer_state=reported.printer_state,
    )
    return ClientPublic.of(record_heartbeat(session, client=client, heartbeat=heartbeat))


@router.get(
    "",
    response_model=StatusPublic,
    responses=error_responses(401, 403),
    dependencies=[Depends(require_role(ClientRole.ADMIN))],
)
def read_status(session: SessionDep) -> StatusPublic:
    """Sync mode and runs per job, item progress, the writeback queue and every client's last heartbeat."""
    return StatusPublic.of(read_backend_status(session))
