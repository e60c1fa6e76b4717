"""POST /api/v1/sync (gzip TSV or Parquet from sync agents) and GET /api/v1/sync."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import Item
from tarroitus.services.clients import register_client
from tarroitus.settings import Settings
from tests.api_helpers import assert_api_error
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


@pytest.mark.parametrize(
    ("timestamp", "seconds_ahead"),
    [("9999-12-31T00:00:00Z", None), ("1900-01-01T00:00:00Z", None), (None, 330)],
)
def test_sync_upload_refuses_a_timestamp_outside_the_window(
    client: TestClient, db_session: Session, settings: Settings, timestamp: str | None, seconds_ahead: int | None
) -> None:
    # Given: a timestamp far in the future or the past, or just past the allowed five minutes ahead
    headers = key_for(db_session, settings, ClientRole.SYNC)
    moment = timestamp or (datetime.now(UTC) + timedelta(seconds=seconds_ahead or 0)).isoformat()
    before = client.get("/api/v1/sync", headers=headers).json()
    # When
    response = upload(client, headers, legacy_tsv_gz([legacy_row(3)]), timestamp=moment)
    # Then: 400 naming the field; nothing written, the watermark where it was
    error = assert_api_error(response, 400, "invalid_timestamp")
    assert [detail["field"] for detail in error["details"]] == ["body.timestamp"]
    assert db_session.scalar(select(func.count()).select_from(Item)) == 0
    assert client.get("/api/v1/sync", headers=headers).json() == before


def test_sync_upload_allows_what_sync_timestamp_max_future_seconds_allows(
    app: FastAPI, db_session: Session, settings: Settings
) -> None:
    # Given: an agent an hour ahead, and SYNC_TIMESTAMP_MAX_FUTURE_SECONDS at two hours
    app.state.settings = settings.model_copy(update={"sync_timestamp_max_future_seconds": 7200})
    headers = key_for(db_session, settings, ClientRole.SYNC)
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    # When
    with TestClient(app, raise_server_exceptions=False) as client:
        response = upload(client, headers, legacy_tsv_gz([legacy_row(4)]), timestamp=ahead)
    # Then
    assert response.status_code == 200, response.text


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
    probe = "import sys, tarroitus.api.app, tarroitus.services.sync.uploads; print('polars' in sys.modules)"
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
