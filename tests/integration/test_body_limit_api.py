"""MAX_REQUEST_BODY_BYTES on the real app: 413 in each protocol's body shape, before authentication."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.domain import ClientRole
from tarroitus.settings import Settings
from tests.api_helpers import assert_api_error, key_header, share_session
from tests.factories import make_client, make_item

LIMIT = 2048


@pytest.fixture
def small_client(settings: Settings, db_session: Session) -> Iterator[TestClient]:
    """The app with a 2 KiB body limit, sharing the test's rolled-back session."""
    app = create_app(settings.model_copy(update={"max_request_body_bytes": LIMIT}))

    share_session(app, db_session)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_oversize_api_body_is_413_with_the_error_envelope(small_client: TestClient, db_session: Session) -> None:
    # Given
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    body = {"name": "n" * LIMIT, "type": "printer"}
    # When
    response = small_client.post("/api/v1/clients", headers=key_header(admin_key), json=body)
    # Then
    error = assert_api_error(response, 413, "payload_too_large")
    assert str(LIMIT) in error["message"]


def test_oversize_body_is_refused_before_authentication(small_client: TestClient, db_session: Session) -> None:
    # Given
    item = make_item(db_session)
    # When
    response = small_client.post(f"/api/v1/items/{item.item_record_id}/labels", content=b"{" + b" " * LIMIT + b"}")
    # Then
    assert_api_error(response, 413, "payload_too_large")


def test_oversize_legacy_body_is_413_with_a_detail_body(small_client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    form = {"internal_hostname": "h" * LIMIT, "internal_ip_address": "10.0.0.1"}
    # When
    response = small_client.post("/status", headers={"x-api-key": key}, data=form)
    # Then
    assert response.status_code == 413
    assert response.json() == {"detail": f"The request body is larger than the limit of {LIMIT} bytes"}


def test_streamed_oversize_body_without_content_length_is_413(small_client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)

    def chunks() -> Iterator[bytes]:
        yield b'{"host_name": "'
        for _ in range(4):
            yield b"h" * 1000
        yield b'"}'

    # When
    response = small_client.post(
        "/api/v1/status/heartbeat", headers={**key_header(key), "Content-Type": "application/json"}, content=chunks()
    )
    # Then
    assert_api_error(response, 413, "payload_too_large")


def test_body_within_the_limit_is_served(small_client: TestClient, db_session: Session) -> None:
    # Given
    _, key = make_client(db_session, role=ClientRole.PRINTER)
    # When
    response = small_client.post("/api/v1/status/heartbeat", headers=key_header(key), json={"host_name": "h" * 200})
    # Then
    assert response.status_code == 200
    assert response.json()["host_name"] == "h" * 200
