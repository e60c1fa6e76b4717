"""A `SierraClient` from the settings, with the credentials from Secrets Manager when an ARN is set."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from tarroitus.aws_secrets import get_json_secret
from tarroitus.errors import ServiceUnavailableError
from tarroitus.settings import Settings

if TYPE_CHECKING:
    from tarroitus.sierra import SierraClient


def sierra_credentials(settings: Settings, *, refresh: bool = False) -> tuple[SecretStr, SecretStr]:
    """The Sierra API key and secret: SIERRA_API_CREDENTIALS_SECRET_ARN (JSON client_key, client_secret) wins.

    The secret is cached for the process; `refresh` reads it anew (Sierra refused the cached credentials).
    """
    if settings.sierra_api_credentials_secret_arn:
        secret = get_json_secret(settings.sierra_api_credentials_secret_arn, settings, refresh=refresh)
        key, value = secret.get("client_key"), secret.get("client_secret")
        if not isinstance(key, str) or not isinstance(value, str):
            raise ServiceUnavailableError("The Sierra credentials secret lacks client_key or client_secret")
        return SecretStr(key), SecretStr(value)
    if settings.sierra_api_client_key is None or settings.sierra_api_client_secret is None:
        raise ServiceUnavailableError("Sierra credentials are not configured (SIERRA_API_CLIENT_KEY and _SECRET)")
    return settings.sierra_api_client_key, settings.sierra_api_client_secret


def build_sierra_client(settings: Settings, **overrides: Any) -> SierraClient:
    """A client for the configured Sierra (pool size, timeout and retries from the settings, unless overridden).

    With the credentials in a secret, a token request Sierra refuses reads the secret again once.
    """
    # The client (and httpx) loads on the first connection, not with the API that imports this module.
    from tarroitus.sierra import SierraClient

    key, secret = sierra_credentials(settings)
    if settings.sierra_api_credentials_secret_arn:
        overrides.setdefault("refresh_credentials", partial(sierra_credentials, settings, refresh=True))
    return SierraClient.from_settings(settings, client_key=key, client_secret=secret, **overrides)


def build_writeback_client(settings: Settings) -> SierraClient:
    """A client for the writeback: at most SIERRA_UPDATE_CONCURRENCY requests at once, halved when Sierra strains."""
    return build_sierra_client(settings, max_concurrent_requests=settings.sierra_update_concurrency)
