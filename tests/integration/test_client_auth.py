"""Client registration and the CurrentClient / require_role dependencies."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.api.auth import AdminClient, PrinterClient
from tarroitus.domain import ClientRole
from tarroitus.services.clients import authenticate, register_client, revoke, rotate_key

PEPPER = "local-development-pepper"


def test_register_client_stores_only_the_hash(db_session: Session) -> None:
    # Given / When
    issued = register_client(db_session, name="station-1", role=ClientRole.PRINTER, pepper=PEPPER)
    # Then
    assert issued.api_key not in issued.client.key_hash
    assert authenticate(db_session, api_key=issued.api_key, pepper=PEPPER) == issued.client
    assert authenticate(db_session, api_key=issued.api_key + "x", pepper=PEPPER) is None


def test_rotate_and_revoke_stop_old_keys(db_session: Session) -> None:
    # Given
    issued = register_client(db_session, name="station-2", role=ClientRole.PRINTER, pepper=PEPPER)
    # When
    rotated = rotate_key(db_session, client=issued.client, pepper=PEPPER)
    # Then
    assert authenticate(db_session, api_key=issued.api_key, pepper=PEPPER) is None
    assert authenticate(db_session, api_key=rotated.api_key, pepper=PEPPER) == issued.client
    revoke(db_session, client=issued.client)
    assert authenticate(db_session, api_key=rotated.api_key, pepper=PEPPER) is None


def test_role_dependencies_answer_401_and_403(app: FastAPI, db_session: Session) -> None:
    # Given
    @app.get("/api/v1/probe/admin")
    def admin_only(client: AdminClient) -> dict[str, str]:
        return {"name": client.name}

    @app.get("/api/v1/probe/printer")
    def printer_only(client: PrinterClient) -> dict[str, str]:
        return {"name": client.name}

    printer = register_client(db_session, name="p", role=ClientRole.PRINTER, pepper=PEPPER).api_key
    admin = register_client(db_session, name="a", role=ClientRole.ADMIN, pepper=PEPPER).api_key
    client = TestClient(app)
    # When / Then
    assert client.get("/api/v1/probe/admin").status_code == 401
    assert client.get("/api/v1/probe/admin", headers={"X-API-Key": "nope"}).json()["error"]["code"] == (
        "not_authenticated"
    )
    assert client.get("/api/v1/probe/admin", headers={"X-API-Key": printer}).status_code == 403
    assert client.get("/api/v1/probe/admin", headers={"Authorization": f"Bearer {admin}"}).json() == {"name": "a"}
    assert client.get("/api/v1/probe/printer", headers={"x-api-key": printer}).json() == {"name": "p"}
    assert client.get("/api/v1/probe/printer", headers={"X-API-Key": admin}).status_code == 200
