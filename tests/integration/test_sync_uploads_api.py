"""POST /api/v1/sync (gzip TSV or Parquet from sync agents) and GET /api/v1/sync."""

import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tarroitus.models import ClientRole, Item
from tarroitus.services.clients import register_client
from tarroitus.settings import Settings
from tests.uploads import legacy_parquet, legacy_row, legacy_tsv_gz


def key_for(db_session: Session, settings: Settings, role: ClientRole) -> dict[str, str]:
    """Headers carrying a new client's key."""
    issued = register_client(
        db_session, name=f"{role.value}-client", role=role, pepper=settings.api_key_pepper.get_secret_value()
    )
    return {"X-API-Key": issued.api_key}


def upload(client: TestClient, headers: dict[str, str], data: bytes, **form: str) -> Any:
    """POST /api/v1/sync with `data` as the file."""
    return client.post("/api/v1/sync", headers=headers, files={"file": ("batch", data)}, data=form)


def test_sync_upload_parquet_is_upserted(client: TestClient, db_session: Session, settings: Settings) -> None:
    # Given
    headers = key_for(db_session, settings, ClientRole.SYNC)
    data = legacy_parquet([legacy_row(101), legacy_row(102, classification="85.2")])
    # When
    response = upload(client, headers, data)
    # Then
    assert response.status_code == 200
    assert response.json() == {"upserted": 2, "repeated": False, "sync_mode": "full", "format": "parquet"}
    item = db_session.get(Item, 102)
    assert item is not None
    assert (item.classification, item.signum, item.barcode) == ("85.2", "JAN", "31234000000102")


def test_sync_upload_with_timestamp_follows_the_legacy_state_rules(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    # Given
    headers = key_for(db_session, settings, ClientRole.SYNC)
    # When: a batch shorter than the batch size, with a timestamp
    response = upload(client, headers, legacy_tsv_gz([legacy_row(1)]), timestamp="2026-11-20T06:00:00Z")
    status = client.get("/api/v1/sync", headers=headers).json()
    # Then
    assert response.json()["sync_mode"] == "changes"
    assert status["mode"] == "changes"
    assert status["changes_since"].startswith("2026-11-20T06:00:00")
    assert status["full_sync_cursor"] == 1


def test_sync_upload_bad_parquet_row_changes_nothing(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    # Given
    headers = key_for(db_session, settings, ClientRole.SYNC)
    data = legacy_parquet([legacy_row(201), legacy_row(202, shelfmark_json="{broken")])
    # When
    response = upload(client, headers, data)
    # Then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"][0]["row"] == 2
    assert error["details"][0]["column"] == "shelfmark_json"
    assert db_session.scalar(select(func.count()).select_from(Item)) == 0


def test_sync_upload_needs_the_sync_role(client: TestClient, db_session: Session, settings: Settings) -> None:
    # Given
    printer = key_for(db_session, settings, ClientRole.PRINTER)
    data = legacy_tsv_gz([legacy_row(1)])
    # When
    anonymous = upload(client, {}, data)
    as_printer = upload(client, printer, data)
    # Then
    assert anonymous.status_code == 401
    assert as_printer.status_code == 403


def test_sync_upload_parquet_without_polars_is_refused(
    client: TestClient, db_session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the API function has no analytics layer
    headers = key_for(db_session, settings, ClientRole.SYNC)
    data = legacy_parquet([legacy_row(1)])
    monkeypatch.setitem(sys.modules, "polars", None)
    # When
    response = upload(client, headers, data)
    # Then
    assert response.status_code == 422
    assert "analytics layer" in response.json()["error"]["message"]


def test_api_import_does_not_load_polars() -> None:
    # Given / When
    probe = "import sys, tarroitus.api.app, tarroitus.services.uploads; print('polars' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # Then
    assert result.stdout.strip() == "False"


def test_read_sync_reports_state_and_runs(client: TestClient, db_session: Session, settings: Settings) -> None:
    # Given
    headers = key_for(db_session, settings, ClientRole.PRINTER)
    # When
    response = client.get("/api/v1/sync", headers=headers)
    # Then
    assert response.status_code == 200
    body = response.json()
    assert (body["mode"], body["full_sync_cursor"], body["changes_since"], body["recent_runs"]) == ("full", 0, None, [])
