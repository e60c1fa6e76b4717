"""Secrets Manager look-ups through Powertools parameters, cached for five minutes per container."""

from typing import Any

from tarroitus.settings import Settings

SECRET_MAX_AGE_SECONDS = 300


def get_json_secret(secret_id: str, settings: Settings) -> dict[str, Any]:
    """The JSON object stored in `secret_id` (an ARN or name)."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    endpoint = str(settings.aws_endpoint_url) if settings.aws_endpoint_url else None
    provider = parameters.SecretsProvider(
        boto3_client=boto3.client("secretsmanager", region_name=settings.aws_region, endpoint_url=endpoint)
    )
    value = provider.get(secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    if not isinstance(value, dict):
        raise ValueError(f"secret {secret_id} does not hold a JSON object")
    return value
