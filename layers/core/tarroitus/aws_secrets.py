"""Secrets Manager look-ups through Powertools parameters, cached for five minutes per container."""

import json
from typing import TYPE_CHECKING, Any

from tarroitus.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

SECRET_MAX_AGE_SECONDS = 300


def get_json_secret(secret_id: str, settings: Settings) -> dict[str, Any]:
    """The JSON object stored in `secret_id` (an ARN or name)."""
    from aws_lambda_powertools.utilities import parameters

    provider = parameters.SecretsProvider(boto3_client=_client(settings))
    value = provider.get(secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    if not isinstance(value, dict):
        raise ValueError(f"secret {secret_id} does not hold a JSON object")
    return value


def put_json_secret(secret_id: str, value: dict[str, Any], settings: Settings) -> None:
    """Store `value` as the new current version of `secret_id`."""
    _client(settings).put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))


def _client(settings: Settings) -> "SecretsManagerClient":
    import boto3

    endpoint = str(settings.aws_endpoint_url) if settings.aws_endpoint_url else None
    return boto3.client("secretsmanager", region_name=settings.aws_region, endpoint_url=endpoint)
