"""Uploads are read within bounds: a decompression bomb answers 413 with memory bounded, and a cell its column
cannot hold answers 400 naming the line (or row) and column, with nothing written, on every upload route."""

import gzip
import io
import zlib
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tarroitus.domain import SYNC_JOB_NAME, ClientRole
from tarroitus.models import Item, JobState, SyncUpload
from tarroitus.services.sync import item_mapping, uploads
from tests.api_helpers import share_session
from tests.factories import make_client, make_item
from tests.memory_probe import peak_growth
from tests.uploads import LEGACY_HEADER, legacy_parquet, legacy_row, legacy_tsv_gz, parse_tsv_gzip

T1 = "2026-11-20T08:00:00+02:00"
BOMB_INFLATED_MIB = 200
#: What the process may grow by while refusing a bomb: the reading happens a block at a time.
BOMB_GROWTH_LIMIT_MIB = 40
NUL_SHELFMARK = '[{"marc_tag": "100", "marc_ind1": "1", "content": "Jans\\u0000son"}]'


def gzip_bomb(first_line: str, line: str) -> bytes:
    """gzip of `first_line`, then `line` repeated to BOMB_INFLATED_MIB MiB, compressed as a stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = (line * (1024 * 1024 // len(line) + 1)).encode()[: 1024 * 1024]
    parts = [compressor.compress(first_line.encode())]
    parts += [compressor.compress(block) for _ in range(BOMB_INFLATED_MIB)]
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.fixture(scope="module")
def tsv_bomb() -> bytes:
    """A legacy TSV batch of valid rows, 200 MiB once inflated, about 200 KB as sent."""
    row = "\t".join(["1000001", "i1000001", "31234000000001", "3000001", "b3000001", "Kivi", "Nummisuutarit"])
    return gzip_bomb("\t".join(LEGACY_HEADER[:7]) + "\n", row + "\n")


@pytest.fixture(scope="module")
def parquet_bomb() -> bytes:
    """A Parquet batch of two million 200-character titles: about 2 MB as sent, 400 MiB of cells."""
    rows = 2_000_000
    frame = pl.DataFrame(
        {"item_record_id": pl.int_range(1, rows + 1, eager=True), "best_title": pl.repeat("x" * 200, rows, eager=True)}
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer, row_group_size=100_000)
    return buffer.getvalue()


def key(db_session: Session, role: ClientRole) -> str:
    """A new client's key."""
    return make_client(db_session, role=role)[1]


def nothing_written(db_session: Session) -> bool:
    """No item, no upload record and no sync state were stored."""
    count = func.count()
    return (
        db_session.scalar(select(count).select_from(Item)) == 0
        and db_session.scalar(select(count).select_from(SyncUpload)) == 0
        and db_session.scalar(select(JobState.full_sync_cursor).where(JobState.job_name == SYNC_JOB_NAME)) in {None, 0}
    )


def post_legacy(client: TestClient, api_key: str, data: bytes) -> Any:
    """The agent's POST /sync."""
    files = {"file": ("data.tsv.gz", data, "application/gzip")}
    return client.post("/sync", files=files, data={"timestamp": T1}, headers={"x-api-key": api_key})


def post_v1(client: TestClient, api_key: str, data: bytes) -> Any:
    """POST /api/v1/sync."""
    return client.post("/api/v1/sync", files={"file": ("batch", data)}, headers={"X-API-Key": api_key})


def test_legacy_sync_bomb_answers_413_with_memory_bounded(
    client: TestClient, db_session: Session, tsv_bomb: bytes
) -> None:
    # Given
    api_key = key(db_session, ClientRole.SYNC)
    assert len(tsv_bomb) < 1024 * 1024
    # When
    with peak_growth() as memory:
        response = post_legacy(client, api_key, tsv_bomb)
    # Then
    assert response.status_code == 413, response.text
    assert "decompressed" in response.json()["detail"]
    assert memory["mib"] < BOMB_GROWTH_LIMIT_MIB, memory
    assert nothing_written(db_session)


def test_v1_sync_bomb_answers_413_in_the_error_shape(client: TestClient, db_session: Session, tsv_bomb: bytes) -> None:
    # Given
    api_key = key(db_session, ClientRole.SYNC)
    # When
    with peak_growth() as memory:
        response = post_v1(client, api_key, tsv_bomb)
    # Then
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["details"][0]["limit_bytes"] == 100 * 1024 * 1024
    assert memory["mib"] < BOMB_GROWTH_LIMIT_MIB, memory
    assert nothing_written(db_session)


def test_parquet_bomb_answers_413_with_memory_bounded(
    client: TestClient, db_session: Session, parquet_bomb: bytes
) -> None:
    # Given
    api_key = key(db_session, ClientRole.SYNC)
    # When
    with peak_growth() as memory:
        response = post_v1(client, api_key, parquet_bomb)
    # Then
    assert response.status_code == 413, response.text
    assert memory["mib"] < BOMB_GROWTH_LIMIT_MIB * 2, memory
    assert nothing_written(db_session)


def test_override_mapping_bomb_answers_413_with_memory_bounded(client: TestClient, db_session: Session) -> None:
    # Given
    api_key = key(db_session, ClientRole.ADMIN)
    bomb = gzip_bomb("item_record_id,classification\n", "1,84.2\n")
    # When
    with peak_growth() as memory:
        response = client.post(
            "/api/v1/items/classification-overrides",
            files={"file": ("map.csv.gz", bomb)},
            headers={"X-API-Key": api_key},
        )
    # Then
    assert response.status_code == 413, response.text
    assert memory["mib"] < BOMB_GROWTH_LIMIT_MIB, memory


def test_the_inflated_cap_is_a_setting(settings: Any, db_session: Session) -> None:
    # Given: a cap below a small batch's inflated size
    from tarroitus.api.app import create_app

    app = create_app(settings.model_copy(update={"max_upload_inflated_bytes": 2048}))

    share_session(app, db_session)
    api_key = key(db_session, ClientRole.SYNC)
    small = legacy_tsv_gz([legacy_row(1)])
    large = legacy_tsv_gz([legacy_row(number) for number in range(1, 40)])
    # When
    with TestClient(app, raise_server_exceptions=False) as client:
        accepted = post_legacy(client, api_key, small)
        refused = post_legacy(client, api_key, large)
    # Then
    assert accepted.status_code == 200
    assert refused.status_code == 413
    assert "2048 bytes" in refused.json()["detail"]


CELLS_POSTGRESQL_CANNOT_HOLD = [
    ("barcode", "3" * 65),
    ("item_number", "i" + "1" * 32),
    ("bib_number", "b" + "1" * 32),
    ("material_code", "a" * 17),
    ("best_title", "Taikurin\x00hattu"),
    ("itype_code_num", str(2**40)),
    ("shelfmark_json", NUL_SHELFMARK),
]


@pytest.mark.parametrize(
    ("column", "value"), CELLS_POSTGRESQL_CANNOT_HOLD, ids=[c for c, _ in CELLS_POSTGRESQL_CANNOT_HOLD]
)
def test_legacy_cell_its_column_cannot_hold_is_400_naming_line_and_column(
    client: TestClient, db_session: Session, column: str, value: str
) -> None:
    # Given: the third line (second data row) carries the cell
    api_key = key(db_session, ClientRole.SYNC)
    data = legacy_tsv_gz([legacy_row(1), legacy_row(2, **{column: value}), legacy_row(3)])
    # When
    response = post_legacy(client, api_key, data)
    # Then
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(f"line 3: {column} ")
    assert nothing_written(db_session)


def tsv_file(rows: list[dict[str, Any]]) -> bytes:
    """The rows as the agent's gzip TSV."""
    return legacy_tsv_gz(rows)


def parquet_file(rows: list[dict[str, Any]]) -> bytes:
    """The rows as Parquet, integer columns typed."""
    return legacy_parquet([{**row, "itype_code_num": int(row["itype_code_num"])} for row in rows])


@pytest.mark.parametrize(
    ("column", "value"), CELLS_POSTGRESQL_CANNOT_HOLD, ids=[c for c, _ in CELLS_POSTGRESQL_CANNOT_HOLD]
)
@pytest.mark.parametrize(
    ("build", "unit", "position"), [(tsv_file, "line", 3), (parquet_file, "row", 2)], ids=["tsv", "parquet"]
)
def test_v1_cell_its_column_cannot_hold_is_400_with_position_and_column_in_details(
    client: TestClient,
    db_session: Session,
    column: str,
    value: str,
    build: Callable[[list[dict[str, Any]]], bytes],
    unit: str,
    position: int,
) -> None:
    # Given: the second data row carries the cell
    api_key = key(db_session, ClientRole.SYNC)
    data = build([legacy_row(1), legacy_row(2, **{column: value})])
    # When
    response = post_v1(client, api_key, data)
    # Then
    assert response.status_code == 400, response.text
    detail = response.json()["error"]["details"][0]
    assert (detail[unit], detail["column"]) == (position, column)
    assert nothing_written(db_session)


def test_header_with_no_item_column_besides_the_id_is_400(client: TestClient, db_session: Session) -> None:
    # Given
    api_key = key(db_session, ClientRole.SYNC)
    data = gzip.compress(b"item_record_id\tcolour\tsize\n1\tred\tL\n")
    # When
    legacy = post_legacy(client, api_key, data)
    v1 = post_v1(client, api_key, data)
    # Then
    assert legacy.status_code == 400
    assert legacy.json()["detail"].startswith("line 1: the header names no item column besides item_record_id")
    assert v1.status_code == 400
    assert v1.json()["error"]["details"][0]["line"] == 1
    assert nothing_written(db_session)


def test_a_value_the_database_refuses_after_validation_is_400_naming_line_and_column(
    client: TestClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the cell checks let everything through, so PostgreSQL itself refuses the long barcode
    monkeypatch.setattr(item_mapping, "_text_converter", lambda column, max_length: lambda value: value or None)
    monkeypatch.setattr(uploads, "CHUNK_ROWS", 2)
    api_key = key(db_session, ClientRole.SYNC)
    rows = [legacy_row(number) for number in range(1, 5)] + [legacy_row(5, barcode="3" * 65)]
    # When
    legacy = post_legacy(client, api_key, legacy_tsv_gz(rows))
    v1 = post_v1(client, api_key, legacy_tsv_gz(rows))
    # Then
    assert legacy.status_code == 400, legacy.text
    assert legacy.json()["detail"].startswith("line 6: the database refused barcode")
    assert v1.status_code == 400
    detail = v1.json()["error"]["details"][0]
    assert (detail["line"], detail["column"]) == (6, "barcode")
    assert nothing_written(db_session)


def test_chunked_store_equals_the_whole_file_read_at_once(
    client: TestClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: seven rows in chunks of two, item 2 repeated across chunks (the last row wins)
    monkeypatch.setattr(uploads, "CHUNK_ROWS", 2)
    api_key = key(db_session, ClientRole.SYNC)
    rows = [legacy_row(number, best_title=f"title {number}") for number in range(1, 7)]
    rows.append(legacy_row(2, best_title="second copy", shelfmark_json=None))
    data = legacy_tsv_gz(rows)
    expected = {row["item_record_id"]: row for row in parse_tsv_gzip(data, max_uncompressed_bytes=10**6).rows}
    # When
    response = post_legacy(client, api_key, data)
    # Then
    assert response.json() == {"upserted": 7}
    stored = {
        item.item_record_id: item for item in db_session.scalars(select(Item).execution_options(populate_existing=True))
    }
    assert sorted(stored) == sorted(expected)
    for item_record_id, row in expected.items():
        item = stored[item_record_id]
        assert {column: getattr(item, column) for column in row} == row
    assert stored[2].best_title == "second copy" and stored[2].signum == "***"


def test_override_cells_that_cannot_name_an_item_are_rejected_rows(client: TestClient, db_session: Session) -> None:
    # Given
    make_item(db_session, item_record_id=1, barcode="31234000000001")
    api_key = key(db_session, ClientRole.ADMIN)
    data = "\n".join(
        ["item_record_id,barcode,classification", f"{2**64},,84.2", ",3123\x00400,84.2", "1,,84\x002"]
    ).encode()
    # When
    response = client.post(
        "/api/v1/items/classification-overrides", files={"file": ("map.csv", data)}, headers={"X-API-Key": api_key}
    )
    # Then
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert [detail["line"] for detail in details] == [2, 3, 4]
    assert "not a whole number" in details[0]["reason"]
    assert "NUL" in details[1]["reason"]
    assert "control characters" in details[2]["reason"]
