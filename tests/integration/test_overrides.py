"""Classification override mappings: validated row by row, applied all or nothing, through API and CLI."""

import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.cli import main
from tarroitus.domain import ClientRole
from tarroitus.models import Item
from tarroitus.repositories.item_upserts import upsert_items
from tarroitus.services.clients import register_client
from tarroitus.services.overrides import load_classification_overrides
from tarroitus.settings import Settings


def add_items(session: Session, *items: tuple[int, str | None, bool]) -> None:
    """Store items as (id, barcode, deleted)."""
    rows = [{"item_record_id": i, "barcode": b, "deleted": d, "classification": "84.2"} for i, b, d in items]
    upsert_items(session, rows=rows, columns=("item_record_id", "barcode", "deleted", "classification"))


def overrides(session: Session) -> dict[int, str | None]:
    """Every item's override."""
    statement = select(Item.item_record_id, Item.classification_override).execution_options(populate_existing=True)
    return dict(session.execute(statement).all())


def test_load_overrides_by_id_and_barcode(db_session: Session) -> None:
    # Given
    add_items(db_session, (1, "A1", False), (2, "B2", False), (3, "C3", False))
    data = b"item_record_id;barcode;classification\n1;;85.2\n;B2;99.1 Fantasia\n"
    # When
    report = load_classification_overrides(db_session, data=data)
    # Then
    assert (report.rows, report.applied, report.changed, report.rejected) == (2, 2, 2, [])
    assert overrides(db_session) == {1: "85.2", 2: "99.1 Fantasia", 3: None}


def test_load_overrides_rejects_bad_rows_and_applies_nothing(db_session: Session) -> None:
    # Given: a shared barcode, a deleted item, and six bad rows around one good row
    add_items(db_session, (1, "A1", False), (2, "SAME", False), (3, "SAME", False), (4, "D4", True))
    data = "\n".join(
        [
            "item_record_id,barcode,classification",
            "1,,85.2",
            "99,,85.2",
            ",SAME,85.2",
            "4,,85.2",
            "x7,,85.2",
            "1,,86.1",
            ",,85.2",
            "2,,",
            "2,A1,85.2",
        ]
    ).encode()
    # When
    report = load_classification_overrides(db_session, data=data)
    # Then
    reasons = {row.position: row.reason for row in report.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert reasons[3] == "no item 99"
    assert "shared by 2 items" in reasons[4]
    assert "deleted" in reasons[5]
    assert "not a whole number" in reasons[6]
    assert reasons[7] == "item 1 appears again (first on line 2)"
    assert reasons[9] == "classification is empty"
    assert "another barcode" in reasons[10]
    assert report.applied == 0
    assert set(overrides(db_session).values()) == {None}


def test_load_overrides_from_parquet_reports_rows(db_session: Session) -> None:
    # Given
    add_items(db_session, (1, "A1", False))
    buffer = io.BytesIO()
    pl.DataFrame({"barcode": ["A1", "nope"], "classification": ["85.2", "85.3"]}).write_parquet(buffer)
    # When
    report = load_classification_overrides(db_session, data=buffer.getvalue())
    # Then
    assert report.rejected_details() == [{"row": 2, "key": "nope", "reason": "no item with barcode nope"}]


def admin_headers(db_session: Session, settings: Settings, role: ClientRole = ClientRole.ADMIN) -> dict[str, str]:
    """Headers with a new client's key."""
    pepper = settings.api_key_pepper.get_secret_value()
    return {"X-API-Key": register_client(db_session, name=f"{role}-x", role=role, pepper=pepper).api_key}


def post_mapping(client: TestClient, headers: dict[str, str], data: bytes, **params: Any) -> Any:
    """POST a mapping file."""
    return client.post(
        "/api/v1/items/classification-overrides", headers=headers, files={"file": ("map.csv", data)}, params=params
    )


def test_overrides_endpoint_applies_or_lists_rejections(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    # Given
    add_items(db_session, (1, "A1", False), (2, "B2", False))
    headers = admin_headers(db_session, settings)
    # When
    dry = post_mapping(client, headers, b"item_record_id,classification\n1,85.2\n", dry_run="true")
    bad = post_mapping(client, headers, b"item_record_id,classification\n1,85.2\n3,85.2\n")
    good = post_mapping(client, headers, b"item_record_id,classification\n1,85.2\n2,85.3\n")
    # Then
    assert dry.json() == {"rows": 1, "applied": 0, "changed": 0, "dry_run": True}
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == [{"line": 3, "key": "3", "reason": "no item 3"}]
    assert good.json() == {"rows": 2, "applied": 2, "changed": 2, "dry_run": False}
    assert overrides(db_session) == {1: "85.2", 2: "85.3"}


def test_overrides_endpoint_is_for_admins(client: TestClient, db_session: Session, settings: Settings) -> None:
    # Given
    headers = admin_headers(db_session, settings, ClientRole.SYNC)
    # When
    response = post_mapping(client, headers, b"item_record_id,classification\n1,85.2\n")
    bad_header = post_mapping(client, admin_headers(db_session, settings), b"id,class\n1,85.2\n")
    # Then
    assert response.status_code == 403
    assert bad_header.status_code == 400


def test_cli_overrides_load(committed_db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given
    with Session(committed_db) as session, session.begin():
        add_items(session, (1, "A1", False), (2, "B2", False))
    good = tmp_path / "good.csv"
    good.write_text("barcode\tclassification\nA1\t85.2\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("barcode,classification\nB2,85.9\nZZ,85.9\n", encoding="utf-8")
    # When
    good_exit = main(["overrides", "load", str(good)])
    bad_exit = main(["overrides", "load", str(bad)])
    missing_exit = main(["overrides", "load", str(tmp_path / "missing.csv")])
    # Then
    output = capsys.readouterr()
    assert (good_exit, bad_exit, missing_exit) == (0, 1, 2)
    assert "1 overrides applied (1 changed)" in output.out
    assert "line 3: ZZ: no item with barcode ZZ" in output.out
    with Session(committed_db) as session:
        assert overrides(session) == {1: "85.2", 2: None}
