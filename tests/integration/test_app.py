"""The app factory: probes, error bodies, local-only diagnostics."""

from fastapi.testclient import TestClient

from tarroitus.api.app import create_app
from tarroitus.migrate import head_revision
from tarroitus.settings import Settings


def test_health_check_answers_ok(client: TestClient) -> None:
    # Given / When
    response = client.get("/api/v1/utils/health-check")
    # Then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_reports_the_migrated_revision(client: TestClient) -> None:
    # Given / When
    response = client.get("/api/v1/utils/readiness")
    # Then
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "migration_revision": head_revision(),
        "expected_revision": head_revision(),
    }


def test_readiness_unreachable_database_is_503_with_error_body(settings: Settings) -> None:
    # Given
    unreachable = settings.model_copy(
        update={"database_url": None, "db_host": "127.0.0.1", "db_port": 1, "db_password": None}
    )
    client = TestClient(create_app(unreachable), raise_server_exceptions=False)
    # When
    response = client.get("/api/v1/utils/readiness")
    # Then
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert "Traceback" not in response.text


def test_unknown_api_path_is_404_in_the_error_shape(client: TestClient) -> None:
    # Given / When
    response = client.get("/api/v1/no-such-thing")
    # Then
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found", "details": []}}


def test_wrong_method_is_405_in_the_error_shape(client: TestClient) -> None:
    # Given / When
    response = client.delete("/api/v1/utils/health-check")
    # Then
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_diagnostics_exist_only_in_local_environment(settings: Settings) -> None:
    # Given
    local = TestClient(create_app(settings.model_copy(update={"env": "local"})))
    test = TestClient(create_app(settings))
    # When
    local_response = local.get("/api/v1/private/diagnostics/settings")
    test_response = test.get("/api/v1/private/diagnostics/settings")
    # Then
    assert local_response.status_code == 200
    assert test_response.status_code == 404


def test_diagnostics_mask_secrets(settings: Settings) -> None:
    # Given
    local = settings.model_copy(update={"env": "local"})
    client = TestClient(create_app(local))
    # When
    body = client.get("/api/v1/private/diagnostics/settings").json()
    # Then
    assert body["database_url"] == "**********"
    assert "postgresql" not in str(body)


def test_diagnostics_database_counts_tables(settings: Settings) -> None:
    # Given
    client = TestClient(create_app(settings.model_copy(update={"env": "local"})))
    # When
    body = client.get("/api/v1/private/diagnostics/database").json()
    # Then
    assert body["server_version"].startswith("18")
    assert body["migration_revision"] == head_revision()
    assert set(body["row_counts"]) >= {"items", "clients", "label_events", "writeback_queue", "job_state"}


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    # Given / When
    schema = client.get("/api/v1/openapi.json")
    docs = client.get("/docs")
    # Then
    assert schema.status_code == 200
    assert "utils-read_health_check" in schema.text
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_validation_error_names_the_field_in_the_error_shape(settings: Settings) -> None:
    # Given
    app = create_app(settings)

    @app.get("/api/v1/probe/{number}")
    def probe(number: int) -> dict[str, int]:
        return {"number": number}

    client = TestClient(app)
    # When
    response = client.get("/api/v1/probe/abc")
    # Then
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"][0]["field"] == "path.number"


def test_unexpected_error_is_generic_500_without_traceback(settings: Settings) -> None:
    # Given
    app = create_app(settings)

    @app.get("/api/v1/explode")
    def explode() -> None:
        raise RuntimeError("secret internals")

    client = TestClient(app, raise_server_exceptions=False)
    # When
    response = client.get("/api/v1/explode")
    # Then
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "Internal server error", "details": []}}
    assert "secret internals" not in response.text
