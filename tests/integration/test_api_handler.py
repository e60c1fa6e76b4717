"""The API Lambda handler, invoked in-process with real API Gateway HTTP API v2 events."""

import importlib
from types import ModuleType

import pytest
from sqlalchemy import Engine, text

from tarroitus.migrate import head_revision
from tarroitus.settings import Settings
from tests.events import FakeLambdaContext, http_api_event, response_json


@pytest.fixture
def api_handler(settings: Settings) -> ModuleType:
    assert settings.env == "test", "the handler must be imported with the test settings"
    return importlib.import_module("functions.api.handler")


def test_api_handler_health_check(api_handler: ModuleType) -> None:
    # Given
    event = http_api_event("GET", "/api/v1/utils/health-check")
    # When
    response = api_handler.lambda_handler(event, FakeLambdaContext())
    # Then
    assert response["statusCode"] == 200
    assert response_json(response) == {"status": "ok"}


def test_api_handler_readiness_queries_postgresql(api_handler: ModuleType, engine: Engine) -> None:
    # Given
    with engine.connect() as connection:
        recorded = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    event = http_api_event("GET", "/api/v1/utils/readiness")
    # When
    response = api_handler.lambda_handler(event, FakeLambdaContext())
    # Then
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["migration_revision"] == recorded == head_revision()
    assert body["status"] == "ready"


def test_api_handler_unknown_route_is_404_error_body(api_handler: ModuleType) -> None:
    # Given
    event = http_api_event("GET", "/api/v1/nothing-here", query={"a": "1"})
    # When
    response = api_handler.lambda_handler(event, FakeLambdaContext())
    # Then
    assert response["statusCode"] == 404
    assert response_json(response)["error"]["code"] == "not_found"
    assert response["headers"]["content-type"] == "application/json"
