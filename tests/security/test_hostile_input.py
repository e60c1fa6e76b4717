"""Hostile input answers a clear 4xx: values PostgreSQL cannot hold, undecodable bodies and arbitrary files
on the upload and mapping endpoints never become a 500."""

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tests.factories import make_client, make_item
from tests.hostile_files import mapping_bytes, upload_bytes


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


FILE_ENDPOINTS = [
    ("/api/v1/sync", ClientRole.SYNC, upload_bytes),
    ("/sync", ClientRole.SYNC, upload_bytes),
    ("/api/v1/items/classification-overrides?dry_run=false", ClientRole.ADMIN, mapping_bytes),
]


@pytest.mark.parametrize(("path", "role", "files"), FILE_ENDPOINTS, ids=[path for path, _, _ in FILE_ENDPOINTS])
def test_file_endpoints_answer_hostile_files_with_2xx_or_a_clear_4xx(
    client: TestClient, db_session: Session, path: str, role: ClientRole, files: st.SearchStrategy[bytes]
) -> None:
    # Given: a key of the endpoint's role, and items the files may name
    _, api_key = make_client(db_session, role=role)
    make_item(db_session, item_record_id=1, barcode="31234000000001")
    statuses: list[int] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=files, timestamp=st.none() | st.just("2026-01-01T00:00:00+00:00") | st.text(max_size=30))
    def upload(data: bytes, timestamp: str | None) -> None:
        form = {"timestamp": timestamp} if timestamp is not None else {}
        # When
        response = client.post(path, files={"file": ("data.bin", data)}, data=form, headers={"x-api-key": api_key})
        statuses.append(response.status_code)
        # Then
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            body = response.json()
            message = body["error"]["message"] if path.startswith("/api/") else body["detail"]
            assert message, body

    upload()
    assert len(statuses) >= 50, statuses
