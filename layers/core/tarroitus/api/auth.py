"""Authentication and roles for /api/v1: `CurrentClient` and `require_role(...)`."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from tarroitus.api.auth_limit import AuthLimiterDep, source_of
from tarroitus.api.deps import SessionDep, SettingsDep
from tarroitus.domain import ClientRole
from tarroitus.errors import AuthenticationError, PermissionDeniedError
from tarroitus.models import Client
from tarroitus.services.clients import authenticate

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="A client's API key")
bearer = HTTPBearer(auto_error=False, description="A client's API key as a bearer token")


async def presented_key(
    header_key: Annotated[str | None, Depends(api_key_header)],
    bearer_key: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str | None:
    """The API key from `X-API-Key` (also the legacy `x-api-key`) or `Authorization: Bearer`."""
    if header_key:
        return header_key
    return bearer_key.credentials if bearer_key else None


def get_current_client(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: AuthLimiterDep,
    api_key: Annotated[str | None, Depends(presented_key)],
) -> Client:
    """The authenticated client; 401 without saying whether a client exists, 429 past the failure limits."""
    if not api_key:
        raise AuthenticationError("An API key is required (X-API-Key or Authorization: Bearer)")
    client = authenticate(session, api_key=api_key, pepper=settings.api_key_pepper.get_secret_value())
    if client is None:
        limiter.refuse_failure(source_of(request), api_key)
        raise AuthenticationError("Invalid API key")
    return client


CurrentClient = Annotated[Client, Depends(get_current_client)]


class RoleRequirement:
    """A dependency admitting clients whose role is in `allowed`; tests read `allowed` to build the auth matrix."""

    def __init__(self, allowed: frozenset[ClientRole]) -> None:
        self.allowed = allowed

    def __call__(self, client: CurrentClient) -> Client:
        """The client, or 403 when its role is not allowed."""
        if client.role not in self.allowed:
            raise role_refusal(self.allowed)
        return client


def role_refusal(allowed: frozenset[ClientRole]) -> PermissionDeniedError:
    """The 403 for a client whose role is not among `allowed`."""
    return PermissionDeniedError(f"This operation needs one of the roles: {', '.join(sorted(allowed))}")


def require_role(*roles: ClientRole) -> RoleRequirement:
    """A dependency admitting clients with one of `roles` (admins are always admitted)."""
    return RoleRequirement(frozenset({*roles, ClientRole.ADMIN}))


AdminClient = Annotated[Client, Depends(require_role(ClientRole.ADMIN))]
PrinterClient = Annotated[Client, Depends(require_role(ClientRole.PRINTER))]
SyncClient = Annotated[Client, Depends(require_role(ClientRole.SYNC))]
