"""Hostile input answers a clear 4xx: values PostgreSQL cannot hold never become a 500."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.models import ClientRole
from tests.factories import make_client


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/status", {"data": {"internal_hostname": "ws\x00", "internal_ip_address": "10.0.0.1"}}),
        ("POST", "/api/v1/status/heartbeat", {"json": {"host_name": "ws\x00"}}),
        ("GET", "/api/v1/items?q=a%00b", {}),
    ],
)
def test_values_postgresql_cannot_hold_are_422_not_500(
    client: TestClient, db_session: Session, method: str, path: str, kwargs: dict[str, object]
) -> None:
    # Given
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    # When
    response = client.request(method, path, headers={"x-api-key": admin_key}, **kwargs)  # type: ignore[arg-type]
    # Then
    assert response.status_code == 422, response.text
    assert "cannot be stored" in response.text


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/clients", {"content-type": "application/json"}),
        ("/status", {"content-type": "multipart/form-data; boundary=x"}),
    ],
)
def test_undecodable_bodies_are_422_like_invalid_json(
    client: TestClient, db_session: Session, path: str, headers: dict[str, str]
) -> None:
    # Given: bytes that are neither UTF-8 JSON nor a well-formed multipart form
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    body = b"\xff\xfe\x00\x81--x\r\nbroken"
    # When
    response = client.post(path, content=body, headers={"x-api-key": admin_key, **headers})
    # Then
    assert response.status_code == 422, response.text
    assert "cannot be decoded" in response.text
