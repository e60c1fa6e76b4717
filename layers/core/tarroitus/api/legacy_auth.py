"""Authentication for the legacy protocol existing printer stations and sync agents speak.

Header `x-api-key`; an unknown key or a client of the wrong type answers 403
`{"detail": "Invalid x-api-key"}` exactly as those clients expect. Legacy client types map onto
roles: SIGNUM_PRINTER -> printer, ETL -> sync (admins are admitted everywhere).
"""

from typing import Annotated

from fastapi import Depends, Header, Request

from tarroitus.api.auth_limit import AuthLimiterDep, source_of
from tarroitus.api.deps import SessionDep, SettingsDep
from tarroitus.domain import ClientRole
from tarroitus.errors import PermissionDeniedError
from tarroitus.models import Client
from tarroitus.services.clients import authenticate

LEGACY_AUTH_FAILURE = "Invalid x-api-key"
LEGACY_CLIENT_TYPES = {"SIGNUM_PRINTER": ClientRole.PRINTER, "ETL": ClientRole.SYNC}


class LegacyRoleRequirement:
    """A dependency admitting a legacy client of `role` (or an admin), else 403 with the legacy body."""

    def __init__(self, role: ClientRole) -> None:
        self.allowed = frozenset({role, ClientRole.ADMIN})

    def __call__(
        self,
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        limiter: AuthLimiterDep,
        x_api_key: Annotated[str | None, Header(alias="x-api-key", include_in_schema=False)] = None,
    ) -> Client:
        """The client; an unknown or revoked key also counts towards the failed-authentication limits."""
        client = None
        if x_api_key:
            client = authenticate(session, api_key=x_api_key, pepper=settings.api_key_pepper.get_secret_value())
            if client is None:
                limiter.refuse_failure(source_of(request), x_api_key)
        if client is None or client.role not in self.allowed:
            raise PermissionDeniedError(LEGACY_AUTH_FAILURE)
        return client


def require_legacy_role(role: ClientRole) -> LegacyRoleRequirement:
    """A dependency admitting a legacy client of `role` (or an admin), else 403 with the legacy body."""
    return LegacyRoleRequirement(role)


LegacyPrinter = Annotated[Client, Depends(require_legacy_role(ClientRole.PRINTER))]
LegacySyncAgent = Annotated[Client, Depends(require_legacy_role(ClientRole.SYNC))]
