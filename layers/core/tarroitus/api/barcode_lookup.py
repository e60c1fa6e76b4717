"""Barcode look-ups that check the caller's key in the statement that reads the items: one round trip.

A printer station looks up every book it relabels, so `GET /api/v1/items/{barcode}` and the legacy
`GET /itemdata/{barcode}` authenticate here instead of through `CurrentClient` and a session: the
key, the client's role and revocation and the barcode's items come from one statement
(`services.items.look_up_barcode_with_key`) on a connection in autocommit. A revoked key therefore
fails on the very next request, and a refusal answers exactly as the routes' protocols do: /api/v1
401 for a missing or invalid key and 403 for a role without access; legacy 403 `Invalid x-api-key`
for all three. Failed keys count towards the failed-authentication limits (`auth_limit`).
"""

import re
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from tarroitus.api.auth import presented_key, role_refusal
from tarroitus.api.auth_limit import AuthLimiterDep, source_of
from tarroitus.api.deps import ReaderDep, SettingsDep
from tarroitus.api.legacy_auth import LEGACY_AUTH_FAILURE
from tarroitus.domain import ClientRole
from tarroitus.errors import AuthenticationError, PermissionDeniedError
from tarroitus.repositories.items import ItemRow
from tarroitus.services.items import BARCODE_PATTERN, KeyedLookup, look_up_barcode_with_key

_BARCODE = re.compile(BARCODE_PATTERN)
#: The ASGI scope key Mangum fills with the Lambda invocation's event.
LAMBDA_EVENT = "aws.event"


class BarcodeRequest:
    """What a keyed look-up reads from the request besides the key: the path's barcode, and where to look it up."""

    def __init__(
        self, request: Request, barcode: str, reader: ReaderDep, settings: SettingsDep, limiter: AuthLimiterDep
    ) -> None:
        self.request, self.barcode, self.reader, self.settings, self.limiter = (
            request,
            barcode,
            reader,
            settings,
            limiter,
        )


class KeyedBarcodeLookup:
    """A dependency giving the item rows of the path's barcode to a caller whose key has one of `allowed` roles.

    The auth matrix (tests/security) reads `allowed`.
    """

    def __init__(self, role: ClientRole) -> None:
        self.allowed = frozenset({role, ClientRole.ADMIN})

    async def look_up(self, asked: BarcodeRequest, api_key: str) -> KeyedLookup:
        """The caller and the rows; a malformed barcode reads no items (the route answers 422 after the key check).

        A key that matches no active client counts as a failed authentication.
        """
        wanted = asked.barcode if _BARCODE.fullmatch(asked.barcode) else None
        pepper = asked.settings.api_key_pepper.get_secret_value()

        def work(connection: Connection) -> KeyedLookup:
            return look_up_barcode_with_key(
                connection, api_key=api_key, pepper=pepper, barcode=wanted, roles=self.allowed
            )

        if LAMBDA_EVENT in asked.request.scope:
            # Lambda hands an execution environment one request at a time: nothing else waits for this
            # thread, and handing the statement to a worker thread would cost more than running it.
            found = asked.reader(work)
        else:
            found = await run_in_threadpool(asked.reader, work)
        if found.caller is None:
            asked.limiter.refuse_failure(source_of(asked.request), api_key)
        return found


class ItemLookup(KeyedBarcodeLookup):
    """`/api/v1`: the key from `X-API-Key` or `Authorization: Bearer`; 401 for no or a bad key, 403 for the role."""

    async def __call__(
        self, asked: Annotated[BarcodeRequest, Depends()], api_key: Annotated[str | None, Depends(presented_key)]
    ) -> list[ItemRow]:
        """The barcode's item rows, lowest id first, for a caller with one of the allowed roles."""
        if not api_key:
            raise AuthenticationError("An API key is required (X-API-Key or Authorization: Bearer)")
        found = await self.look_up(asked, api_key)
        if found.caller is None:
            raise AuthenticationError("Invalid API key")
        if found.caller.role not in self.allowed:
            raise role_refusal(self.allowed)
        return found.rows


class LegacyItemLookup(KeyedBarcodeLookup):
    """The legacy protocol: the key from `x-api-key`; 403 `Invalid x-api-key` for no key, a bad one, or the role."""

    async def __call__(
        self,
        asked: Annotated[BarcodeRequest, Depends()],
        x_api_key: Annotated[str | None, Header(alias="x-api-key", include_in_schema=False)] = None,
    ) -> list[ItemRow]:
        """The barcode's item rows, lowest id first, for a caller with one of the allowed roles."""
        if not x_api_key:
            raise PermissionDeniedError(LEGACY_AUTH_FAILURE)
        found = await self.look_up(asked, x_api_key)
        if found.caller is None or found.caller.role not in self.allowed:
            raise PermissionDeniedError(LEGACY_AUTH_FAILURE)
        return found.rows


PrinterItemRows = Annotated[list[ItemRow], Depends(ItemLookup(ClientRole.PRINTER))]
LegacyPrinterItemRows = Annotated[list[ItemRow], Depends(LegacyItemLookup(ClientRole.PRINTER))]
