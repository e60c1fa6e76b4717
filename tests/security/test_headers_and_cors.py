"""Security headers on every kind of response, and CORS closed unless origins are configured."""

import pytest
from fastapi import FastAPI, Response
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.domain import ClientRole
from tarroitus.settings import Settings
from tests.api_helpers import key_header
from tests.factories import make_client

ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"


def assert_always_present(headers: object) -> None:
    """The headers every response carries."""
    for name, value in ALWAYS.items():
        assert headers[name] == value, name  # type: ignore[index]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/utils/health-check", 200),
        ("GET", "/api/v1/status", 401),
        ("GET", "/api/v1/no-such-route", 404),
        ("DELETE", "/api/v1/utils/health-check", 405),
        ("GET", "/itemdata/31234000000001", 403),
        ("GET", "/healthz", 200),
    ],
)
def test_json_and_empty_responses_carry_the_security_headers(
    client: TestClient, method: str, path: str, status: int
) -> None:
    # Given / When
    response = client.request(method, path)
    # Then
    assert response.status_code == status
    assert_always_present(response.headers)
    assert response.headers["content-security-policy"] == DATA_CSP
    assert "strict-transport-security" not in response.headers


def test_api_responses_are_not_cached(client: TestClient) -> None:
    # Given / When
    api = client.get("/api/v1/utils/health-check")
    legacy_json = client.get("/itemdata/31234000000001")
    # Then
    assert api.headers["cache-control"] == "no-store"
    assert legacy_json.headers["cache-control"] == "no-store"


def test_docs_page_may_load_its_scripts_but_not_be_framed(client: TestClient) -> None:
    # Given / When
    response = client.get("/docs")
    # Then
    assert response.status_code == 200
    assert_always_present(response.headers)
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_https_responses_carry_strict_transport_security(app: FastAPI) -> None:
    # Given
    client = TestClient(app, base_url="https://api.example.com")
    # When
    response = client.get("/api/v1/utils/health-check")
    # Then
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_headers_a_route_sets_are_kept(settings: Settings) -> None:
    # Given
    app = create_app(settings)

    @app.get("/api/v1/probe/cached")
    def cached(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "private, max-age=60"
        return {}

    @app.get("/page", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>", headers={"Content-Security-Policy": "default-src 'self'"})

    client = TestClient(app)
    # When
    api_response = client.get("/api/v1/probe/cached")
    page_response = client.get("/page")
    # Then
    assert api_response.headers["cache-control"] == "private, max-age=60"
    assert page_response.headers["content-security-policy"] == "default-src 'self'"
    assert "cache-control" not in page_response.headers
    assert_always_present(page_response.headers)


def test_body_limit_refusals_carry_the_security_headers(settings: Settings) -> None:
    # Given
    client = TestClient(create_app(settings.model_copy(update={"max_request_body_bytes": 1024})))
    # When
    response = client.post("/api/v1/clients", content=b"x" * 2048, headers={"content-type": "application/json"})
    # Then
    assert response.status_code == 413
    assert_always_present(response.headers)


def test_cors_is_closed_by_default(client: TestClient, db_session: Session, settings: Settings) -> None:
    # Given
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    origin = {"Origin": "https://evil.example"}
    # When
    preflight = client.options(
        "/api/v1/clients",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"},
    )
    simple = client.get("/api/v1/clients", headers={**origin, **key_header(admin_key)})
    # Then
    assert settings.cors_origins == []
    assert preflight.status_code in {404, 405}
    assert simple.status_code == 200
    for response in (preflight, simple):
        assert not any(name.startswith("access-control-") for name in response.headers)


def test_cors_admits_only_the_configured_origins(settings: Settings) -> None:
    # Given
    app = create_app(settings.model_copy(update={"cors_origins": ["https://dashboard.example"]}))
    client = TestClient(app)
    request_headers = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-api-key"}
    # When
    allowed = client.options("/api/v1/status", headers={"Origin": "https://dashboard.example", **request_headers})
    refused = client.options("/api/v1/status", headers={"Origin": "https://evil.example", **request_headers})
    # Then
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://dashboard.example"
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-credentials" not in allowed.headers


def test_unexpected_errors_carry_the_security_headers(settings: Settings) -> None:
    # Given: a route that fails in a way no handler expects
    app = create_app(settings)

    @app.get("/api/v1/probe/explode")
    def explode() -> None:
        raise RuntimeError("boom")

    client = TestClient(app, raise_server_exceptions=False, base_url="https://api.example.com")
    # When
    response = client.get("/api/v1/probe/explode")
    # Then
    assert response.status_code == 500
    assert_always_present(response.headers)
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" in response.headers
