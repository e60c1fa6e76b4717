"""Secrets Manager look-ups: one client and one Powertools provider per process, values cached for five minutes.

A Lambda container serves many invocations, so the client and the provider's cache live as long as
the process; a caller that finds a cached value refused (a rotated password, rotated API credentials)
asks again with `refresh=True`.
"""

import json
import threading
from typing import TYPE_CHECKING, Any

from tarroitus.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

SECRET_MAX_AGE_SECONDS = 300

_providers: dict[tuple[str, str | None], "SecretsProvider"] = {}
_providers_lock = threading.Lock()


def get_json_secret(secret_id: str, settings: Settings, *, refresh: bool = False) -> dict[str, Any]:
    """The JSON object stored in `secret_id` (an ARN or name); `refresh` bypasses the cache."""
    value = _provider(settings).get(secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS, force_fetch=refresh)
    if not isinstance(value, dict):
        raise ValueError(f"secret {secret_id} does not hold a JSON object")
    return value


def put_json_secret(secret_id: str, value: dict[str, Any], settings: Settings) -> None:
    """Store `value` as the new current version of `secret_id`; the next read fetches it."""
    provider = _provider(settings)
    provider.client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))
    provider.clear_cache()  # type: ignore[no-untyped-call]


def clear_secret_cache() -> None:
    """Forget every cached value and client (tests that point the process at another Secrets Manager)."""
    with _providers_lock:
        _providers.clear()


def _provider(settings: Settings) -> "SecretsProvider":
    endpoint = str(settings.aws_endpoint_url) if settings.aws_endpoint_url else None
    key = (settings.aws_region, endpoint)
    with _providers_lock:
        provider = _providers.get(key)
        if provider is None:
            import boto3
            from aws_lambda_powertools.utilities import parameters

            client = boto3.client("secretsmanager", region_name=settings.aws_region, endpoint_url=endpoint)
            provider = _providers[key] = parameters.SecretsProvider(boto3_client=client)
        return provider
