"""Clients: register printer stations, sync agents and admins; rotate and revoke their keys (admins only)."""

import uuid

from fastapi import APIRouter, Depends, Response, status

from tarroitus.api.auth import require_role
from tarroitus.api.client_schemas import ClientCreate, ClientPublic, ClientsPublic, ClientWithKey
from tarroitus.api.deps import SessionDep, SettingsDep
from tarroitus.api.schemas import error_responses
from tarroitus.domain import ClientRole
from tarroitus.services.clients import get_client, list_clients, register_client, revoke_client, rotate_client_key

router = APIRouter(prefix="/clients", tags=["clients"], dependencies=[Depends(require_role(ClientRole.ADMIN))])

#: Responses carrying a key must not be kept by any cache on the way.
NO_STORE = {"Cache-Control": "no-store"}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ClientWithKey,
    responses=error_responses(401, 403, 409, 413, 422),
)
def create_client(body: ClientCreate, session: SessionDep, settings: SettingsDep, response: Response) -> ClientWithKey:
    """Register a client and return its API key: the only time the key is shown."""
    api_key = body.api_key.get_secret_value() if body.api_key else None
    pepper = settings.api_key_pepper.get_secret_value()
    issued = register_client(session, name=body.name, role=body.type, pepper=pepper, api_key=api_key)
    response.headers.update(NO_STORE)
    return ClientWithKey.issued(issued.client, issued.api_key)


@router.get("", response_model=ClientsPublic, responses=error_responses(401, 403))
def read_clients(session: SessionDep) -> ClientsPublic:
    """Every registered client, by name, with its last heartbeat."""
    clients = [ClientPublic.of(client) for client in list_clients(session)]
    return ClientsPublic(data=clients, count=len(clients))


@router.get("/{client_id}", response_model=ClientPublic, responses=error_responses(401, 403, 404, 422))
def read_client(client_id: uuid.UUID, session: SessionDep) -> ClientPublic:
    """One client."""
    return ClientPublic.of(get_client(session, client_id=client_id))


@router.post(
    "/{client_id}/rotate-key", response_model=ClientWithKey, responses=error_responses(401, 403, 404, 409, 422)
)
def rotate_client_api_key(
    client_id: uuid.UUID, session: SessionDep, settings: SettingsDep, response: Response
) -> ClientWithKey:
    """Replace the client's key and return the new one once; the old key stops working at once."""
    issued = rotate_client_key(session, client_id=client_id, pepper=settings.api_key_pepper.get_secret_value())
    response.headers.update(NO_STORE)
    return ClientWithKey.issued(issued.client, issued.api_key)


@router.post("/{client_id}/revoke", response_model=ClientPublic, responses=error_responses(401, 403, 404, 409, 422))
def revoke_client_key(client_id: uuid.UUID, session: SessionDep) -> ClientPublic:
    """Revoke the client's key: every later request with it is refused (revoking twice changes nothing)."""
    return ClientPublic.of(revoke_client(session, client_id=client_id))
