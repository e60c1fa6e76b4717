"""Building the Sierra client from the settings: plain credentials, or a Secrets Manager secret."""

import json
import uuid
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from tarroitus.errors import ServiceUnavailableError
from tarroitus.jobs.sierra_connection import build_sierra_client, sierra_credentials
from tarroitus.settings import Settings
from tests import moto_fixtures
from tests.sierra_fixtures import RunningSimulator

moto_server = moto_fixtures.moto_server


@pytest.fixture(autouse=True)
def fresh_secret_cache() -> Iterator[None]:
    """Powertools caches secrets for five minutes; every test starts without."""
    parameters.clear_caches()
    yield
    parameters.clear_caches()


def secret_arn(endpoint: str, value: dict[str, str]) -> str:
    """A new secret holding `value` as JSON."""
    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="eu-north-1")
    created = client.create_secret(Name=f"sierra-{uuid.uuid4().hex[:8]}", SecretString=json.dumps(value))
    return str(created["ARN"])


def test_sierra_credentials_come_from_the_secret_when_an_arn_is_set(
    settings: Settings, moto_server: str, sierra_simulator: RunningSimulator
) -> None:
    # Given
    arn = secret_arn(
        moto_server,
        {"client_key": sierra_simulator.config.client_key, "client_secret": sierra_simulator.config.client_secret},
    )
    configured = settings.model_copy(
        update={
            "sierra_api_credentials_secret_arn": arn,
            "aws_endpoint_url": moto_server,
            "sierra_api_endpoint": sierra_simulator.base_url,
            "sierra_api_client_key": None,
        }
    )
    # When
    with build_sierra_client(configured) as client:
        page = client.list_items_raw(limit=1)
    # Then
    assert len(page["entries"]) == 1
    assert client.tokens_fetched == 1


def test_sierra_credentials_refuse_missing_configuration(settings: Settings, moto_server: str) -> None:
    # Given
    bare = settings.model_copy(update={"sierra_api_client_key": None, "sierra_api_client_secret": None})
    incomplete = settings.model_copy(
        update={
            "sierra_api_credentials_secret_arn": secret_arn(moto_server, {"client_key": "k"}),
            "aws_endpoint_url": moto_server,
        }
    )
    # When / Then
    with pytest.raises(ServiceUnavailableError):
        sierra_credentials(bare)
    with pytest.raises(ServiceUnavailableError):
        sierra_credentials(incomplete)
