"""/api/v1/clients: register, list, read, rotate and revoke clients (admins only)."""

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import Client
from tests.api_helpers import assert_api_error, key_header
from tests.factories import make_client


@pytest.fixture
def admin_key(db_session: Session) -> str:
    return make_client(db_session, role=ClientRole.ADMIN, name="admin-0")[1]


def test_create_client_returns_the_key_once_and_stores_its_hash(
    client: TestClient, db_session: Session, admin_key: str
) -> None:
    # Given
    body = {"name": "pasila-station-3", "type": "printer"}
    # When
    response = client.post("/api/v1/clients", headers=key_header(admin_key), json=body)
    # Then
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert (created["name"], created["type"], created["active"]) == ("pasila-station-3", "printer", True)
    api_key = created["api_key"]
    stored = db_session.get(Client, uuid.UUID(created["id"]))
    assert stored is not None
    assert api_key not in stored.key_hash
    assert created["key_id"] == stored.key_id
    shown_later = client.get(f"/api/v1/clients/{created['id']}", headers=key_header(admin_key)).json()
    assert "api_key" not in shown_later
    assert client.get("/api/v1/items", headers=key_header(api_key)).status_code == 200


def test_create_client_adopts_a_legacy_key_and_legacy_type(client: TestClient, admin_key: str) -> None:
    # Given
    legacy_key = "old-station-key-0123456789"
    body = {"name": "old-station", "type": "SIGNUM_PRINTER", "api_key": legacy_key}
    # When
    response = client.post("/api/v1/clients", headers=key_header(admin_key), json=body)
    # Then
    assert response.status_code == 201
    assert response.json()["type"] == "printer"
    assert response.json()["api_key"] == legacy_key
    assert (
        client.post(
            "/status",
            headers={"x-api-key": legacy_key},
            data={"internal_hostname": "h", "internal_ip_address": "10.0.0.1"},
        ).status_code
        == 200
    )


def test_create_client_duplicate_name_and_key_are_409(client: TestClient, admin_key: str) -> None:
    # Given
    first = {"name": "dup", "type": "sync", "api_key": "a-key-of-sixteen-chars"}
    client.post("/api/v1/clients", headers=key_header(admin_key), json=first)
    # When
    same_name = client.post("/api/v1/clients", headers=key_header(admin_key), json={"name": "dup", "type": "printer"})
    same_key = client.post(
        "/api/v1/clients",
        headers=key_header(admin_key),
        json={"name": "other", "type": "printer", "api_key": first["api_key"]},
    )
    # Then
    assert_api_error(same_name, 409, "client_exists")
    assert_api_error(same_key, 409, "key_in_use")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "printer"}, "body.name"),
        ({"name": "", "type": "printer"}, "body.name"),
        ({"name": "x" * 121, "type": "printer"}, "body.name"),
        ({"name": "x", "type": "superuser"}, "body.type"),
        ({"name": "x", "type": 3}, "body.type"),
        ({"name": 5, "type": "printer"}, "body.name"),
        ({"name": "x", "type": "printer", "api_key": "too-short"}, "body.api_key"),
        ({"name": "x", "type": "printer", "role": "admin"}, "body.role"),
    ],
)
def test_create_client_bad_body_is_422(client: TestClient, admin_key: str, body: dict[str, object], field: str) -> None:
    # Given / When
    response = client.post("/api/v1/clients", headers=key_header(admin_key), json=body)
    # Then
    error = assert_api_error(response, 422, "invalid_input")
    assert field in [detail["field"] for detail in error["details"]]
    assert "too-short" not in response.text


def test_read_clients_lists_every_client_without_keys(client: TestClient, db_session: Session, admin_key: str) -> None:
    # Given
    make_client(db_session, role=ClientRole.PRINTER, name="b-station")
    make_client(db_session, role=ClientRole.SYNC, name="a-sync")
    # When
    response = client.get("/api/v1/clients", headers=key_header(admin_key))
    # Then
    assert response.status_code == 200
    body = response.json()
    names = [listed["name"] for listed in body["data"]]
    assert names == sorted(names)
    assert {"a-sync", "b-station", "admin-0"} <= set(names)
    assert body["count"] == len(names)
    assert all("api_key" not in listed for listed in body["data"])


def test_read_client_unknown_is_404_and_malformed_id_is_422(client: TestClient, admin_key: str) -> None:
    # Given / When
    unknown = client.get(f"/api/v1/clients/{uuid.uuid4()}", headers=key_header(admin_key))
    malformed = client.get("/api/v1/clients/not-a-uuid", headers=key_header(admin_key))
    # Then
    assert_api_error(unknown, 404, "client_not_found")
    assert assert_api_error(malformed, 422, "invalid_input")["details"][0]["field"] == "path.client_id"


def test_rotate_key_replaces_the_key_at_once(client: TestClient, db_session: Session, admin_key: str) -> None:
    # Given
    station, old_key = make_client(db_session, role=ClientRole.PRINTER)
    old_key_id = station.key_id
    # When
    response = client.post(f"/api/v1/clients/{station.id}/rotate-key", headers=key_header(admin_key))
    # Then
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    new_key = response.json()["api_key"]
    assert new_key != old_key
    assert response.json()["key_id"] != old_key_id
    assert response.json()["key_rotated_at"] is not None
    assert_api_error(client.get("/api/v1/items", headers=key_header(old_key)), 401, "not_authenticated")
    assert client.get("/api/v1/items", headers=key_header(new_key)).status_code == 200


def test_revoke_stops_the_key_immediately_and_is_idempotent(
    client: TestClient, db_session: Session, admin_key: str
) -> None:
    # Given
    station, key = make_client(db_session, role=ClientRole.PRINTER)
    assert client.get("/api/v1/items", headers=key_header(key)).status_code == 200
    # When
    first = client.post(f"/api/v1/clients/{station.id}/revoke", headers=key_header(admin_key))
    again = client.post(f"/api/v1/clients/{station.id}/revoke", headers=key_header(admin_key))
    # Then
    assert first.status_code == again.status_code == 200
    assert first.json()["active"] is False
    assert again.json()["revoked_at"] == first.json()["revoked_at"]
    assert_api_error(client.get("/api/v1/items", headers=key_header(key)), 401, "not_authenticated")
    assert client.post(
        "/status", headers={"x-api-key": key}, data={"internal_hostname": "h", "internal_ip_address": "i"}
    ).json() == {"detail": "Invalid x-api-key"}
    rotate = client.post(f"/api/v1/clients/{station.id}/rotate-key", headers=key_header(admin_key))
    assert_api_error(rotate, 409, "client_revoked")


def test_revoke_refuses_the_last_active_admin(client: TestClient, db_session: Session) -> None:
    # Given
    only_admin, only_key = make_client(db_session, role=ClientRole.ADMIN)
    for other in db_session.scalars(select(Client).where(Client.role == ClientRole.ADMIN, Client.id != only_admin.id)):
        db_session.delete(other)
    db_session.flush()
    second, _ = make_client(db_session, role=ClientRole.ADMIN)
    # When
    allowed = client.post(f"/api/v1/clients/{second.id}/revoke", headers=key_header(only_key))
    refused = client.post(f"/api/v1/clients/{only_admin.id}/revoke", headers=key_header(only_key))
    # Then
    assert allowed.status_code == 200
    assert_api_error(refused, 409, "last_admin")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/clients"),
        ("GET", "/api/v1/clients"),
        ("GET", "/api/v1/clients/{id}"),
        ("POST", "/api/v1/clients/{id}/rotate-key"),
        ("POST", "/api/v1/clients/{id}/revoke"),
    ],
)
def test_clients_routes_auth_matrix(client: TestClient, db_session: Session, method: str, path: str) -> None:
    # Given
    target, _ = make_client(db_session, role=ClientRole.PRINTER)
    _, printer_key = make_client(db_session, role=ClientRole.PRINTER)
    _, sync_key = make_client(db_session, role=ClientRole.SYNC)
    revoked, revoked_admin_key = make_client(db_session, role=ClientRole.ADMIN)
    revoked.revoked_at = datetime.now(UTC)
    db_session.flush()
    url = path.format(id=target.id)
    body = {"name": "new-one", "type": "printer"}
    # When / Then
    assert_api_error(client.request(method, url, json=body), 401, "not_authenticated")
    assert_api_error(
        client.request(method, url, json=body, headers=key_header("nobody-has-this-key")), 401, "not_authenticated"
    )
    assert_api_error(
        client.request(method, url, json=body, headers=key_header(revoked_admin_key)), 401, "not_authenticated"
    )
    assert_api_error(client.request(method, url, json=body, headers=key_header(printer_key)), 403, "forbidden")
    assert_api_error(client.request(method, url, json=body, headers=key_header(sync_key)), 403, "forbidden")
    db_session.refresh(target)
    assert target.revoked_at is None


def test_failed_authentication_does_not_tell_whether_a_client_exists(client: TestClient, db_session: Session) -> None:
    # Given
    revoked, revoked_key = make_client(db_session, role=ClientRole.ADMIN)
    revoked.revoked_at = datetime.now(UTC)
    db_session.flush()
    # When
    unknown = client.get("/api/v1/clients", headers=key_header("no-such-key-anywhere"))
    revoked_response = client.get("/api/v1/clients", headers=key_header(revoked_key))
    # Then
    assert unknown.status_code == revoked_response.status_code == 401
    assert unknown.json() == revoked_response.json()
