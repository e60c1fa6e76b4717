"""GET /api/v1/items/{barcode} and GET /api/v1/items against PostgreSQL."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.repositories.writeback import enqueue_item
from tarroitus.services.items import BARCODE_PATTERN, format_label_line
from tarroitus.services.labels.prints import record_print
from tests.api_helpers import assert_api_error, key_header
from tests.factories import make_client, make_item

BIB_WITH_AUTHOR = [
    {"marcTag": "100", "ind1": "1", "ind2": " ", "subfields": [{"tag": "a", "content": "Linna, Väinö"}]},
    {"marcTag": "245", "ind1": "1", "ind2": "0", "subfields": [{"tag": "a", "content": "Tuntematon sotilas"}]},
]


@pytest.fixture
def printer_key(db_session: Session) -> str:
    return make_client(db_session, role=ClientRole.PRINTER)[1]


def test_read_items_by_barcode_returns_the_label_data(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    item = make_item(db_session, classification="84.2", signum="KIV", call_number="84.2 KIV", material_code="3")
    # When
    response = client.get(f"/api/v1/items/{item.barcode}", headers=key_header(printer_key))
    # Then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    found = body["data"][0]
    assert found["item_id"] == item.item_record_id
    assert (found["barcode"], found["title"], found["author"]) == (item.barcode, item.best_title, item.best_author)
    assert (found["material_code"], found["call_number"]) == ("3", "84.2 KIV")
    assert (found["classification"], found["signum"]) == ("84.2", "KIV")
    assert found["label"] == {"line": format_label_line("84.2", "KIV"), "width": 32, "printable": True}
    assert found["label_state"] == {
        "state": "never_printed",
        "print_count": 0,
        "last_printed_at": None,
        "last_printed_by": None,
        "last_printed_classification": None,
        "last_printed_signum": None,
    }
    assert found["reprint_needed"] is False
    assert found["writeback"]["state"] == "not_queued"


def test_read_items_by_barcode_prefers_the_override_and_computes_a_missing_signum(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    item = make_item(
        db_session, classification="84.2", classification_override="85.1", signum=None, main_entry=BIB_WITH_AUTHOR
    )
    # When
    response = client.get(f"/api/v1/items/{item.barcode}?label_width=12", headers=key_header(printer_key))
    # Then
    found = response.json()["data"][0]
    assert (found["classification"], found["signum"]) == ("85.1", "LIN")
    assert found["label"]["line"] == "85.1     LIN"


def test_read_items_by_barcode_without_classification_is_not_printable(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    item = make_item(db_session, classification=None, signum=None, main_entry=None)
    # When
    found = client.get(f"/api/v1/items/{item.barcode}", headers=key_header(printer_key)).json()["data"][0]
    # Then
    assert found["classification"] is None
    assert found["signum"] == "***"
    assert found["label"]["line"] is None
    assert found["label"]["printable"] is False


def test_read_items_by_barcode_returns_every_item_sharing_it(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    first = make_item(db_session, barcode="31234000999999", deleted=True)
    second = make_item(db_session, barcode="31234000999999")
    third = make_item(db_session, barcode="31234000999999")
    # When
    response = client.get("/api/v1/items/31234000999999", headers=key_header(printer_key))
    # Then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [found["item_id"] for found in body["data"]] == [
        second.item_record_id,
        third.item_record_id,
        first.item_record_id,
    ]
    assert [found["deleted"] for found in body["data"]] == [False, False, True]
    assert body["data"][2]["label"]["printable"] is False


def test_read_items_by_barcode_shows_the_print_and_writeback_state(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    station, _ = make_client(db_session, role=ClientRole.PRINTER, name="station-7")
    item = make_item(db_session)
    record_print(db_session, item_id=item.item_record_id, client=station)
    record_print(db_session, item_id=item.item_record_id, client=station)
    # When
    found = client.get(f"/api/v1/items/{item.barcode}", headers=key_header(printer_key)).json()["data"][0]
    # Then
    state = found["label_state"]
    assert (state["state"], state["print_count"]) == ("printed", 2)
    assert state["last_printed_by"] == {"id": str(station.id), "name": "station-7"}
    assert state["last_printed_at"] is not None
    assert found["writeback"]["state"] == "queued"
    assert found["writeback"]["attempts"] == 0


def test_read_items_by_barcode_unknown_is_404(client: TestClient, printer_key: str) -> None:
    # Given / When
    response = client.get("/api/v1/items/99999999999999", headers=key_header(printer_key))
    # Then
    assert_api_error(response, 404, "item_not_found")


@pytest.mark.parametrize("barcode", ["123", "3123400-0000001", "x" * 31, "3123400%200001"])
def test_read_items_by_barcode_malformed_is_422_naming_the_rule(
    client: TestClient, printer_key: str, barcode: str
) -> None:
    # Given / When
    response = client.get(f"/api/v1/items/{barcode}", headers=key_header(printer_key))
    # Then
    error = assert_api_error(response, 422, "invalid_barcode")
    assert BARCODE_PATTERN in error["message"]
    assert error["details"][0]["field"] == "path.barcode"


def test_read_items_by_barcode_label_width_out_of_bounds_is_422(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    item = make_item(db_session)
    # When
    response = client.get(f"/api/v1/items/{item.barcode}?label_width=2", headers=key_header(printer_key))
    # Then
    error = assert_api_error(response, 422, "invalid_input")
    assert error["details"][0]["field"] == "query.label_width"


def test_read_items_by_barcode_auth_matrix(client: TestClient, db_session: Session) -> None:
    # Given
    item = make_item(db_session)
    _, sync_key = make_client(db_session, role=ClientRole.SYNC)
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    revoked, revoked_key = make_client(db_session, role=ClientRole.PRINTER)
    client.post(f"/api/v1/clients/{revoked.id}/revoke", headers=key_header(admin_key))
    url = f"/api/v1/items/{item.barcode}"
    # When / Then
    assert_api_error(client.get(url), 401, "not_authenticated")
    assert_api_error(client.get(url, headers=key_header("trt_not-a-key-of-anyone")), 401, "not_authenticated")
    assert_api_error(client.get(url, headers=key_header(revoked_key)), 401, "not_authenticated")
    assert_api_error(client.get(url, headers=key_header(sync_key)), 403, "forbidden")
    assert client.get(url, headers={"Authorization": f"Bearer {admin_key}"}).status_code == 200


def test_read_items_filters_by_label_and_writeback_state(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    never = make_item(db_session)
    printed = make_item(db_session, print_count=1)
    queued = make_item(db_session, print_count=1)
    enqueue_item(db_session, item_record_id=queued.item_record_id, classification="84.2")
    unclassified = make_item(db_session, classification=None)
    make_item(db_session, deleted=True)
    ids = {never.item_record_id, printed.item_record_id, queued.item_record_id, unclassified.item_record_id}
    headers = key_header(printer_key)

    def listed(query: str) -> set[int]:
        response = client.get(f"/api/v1/items?limit=500&{query}", headers=headers)
        assert response.status_code == 200, response.text
        return {found["item_id"] for found in response.json()["data"]} & ids

    # When / Then
    assert listed("") == ids
    assert listed("label_state=never_printed") == {never.item_record_id, unclassified.item_record_id}
    assert listed("label_state=printed") == {printed.item_record_id, queued.item_record_id}
    assert listed("writeback_state=queued") == {queued.item_record_id}
    assert listed("writeback_state=not_queued&label_state=printed") == {printed.item_record_id}
    assert listed("has_classification=false") == {unclassified.item_record_id}
    assert len(listed("include_deleted=true")) == len(ids)


def test_read_items_includes_deleted_only_when_asked(client: TestClient, db_session: Session, printer_key: str) -> None:
    # Given
    deleted = make_item(db_session, deleted=True, best_title="Poistettu kirja")
    # When
    without = client.get("/api/v1/items?q=Poistettu", headers=key_header(printer_key)).json()
    with_deleted = client.get("/api/v1/items?q=Poistettu&include_deleted=true", headers=key_header(printer_key)).json()
    # Then
    assert without["count"] == 0
    assert [found["item_id"] for found in with_deleted["data"]] == [deleted.item_record_id]


def test_read_items_searches_title_author_and_barcode(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    by_title = make_item(db_session, best_title="Sinuhe egyptiläinen", best_author="Waltari, Mika")
    by_barcode = make_item(db_session, barcode="99887766554433")
    make_item(db_session, best_title="100% varma_asia")
    headers = key_header(printer_key)
    # When
    title = client.get("/api/v1/items?q=sinuhe", headers=headers).json()
    author = client.get("/api/v1/items?q=WALTARI", headers=headers).json()
    barcode = client.get("/api/v1/items?q=998877", headers=headers).json()
    wildcard = client.get("/api/v1/items?q=0%25 v", headers=headers).json()
    # Then
    assert [found["item_id"] for found in title["data"]] == [by_title.item_record_id]
    assert [found["item_id"] for found in author["data"]] == [by_title.item_record_id]
    assert [found["item_id"] for found in barcode["data"]] == [by_barcode.item_record_id]
    assert wildcard["count"] == 1


def test_read_items_pages_with_next_after(client: TestClient, db_session: Session, printer_key: str) -> None:
    # Given
    made = [make_item(db_session, best_title="Sivutettava") for _ in range(5)]
    headers = key_header(printer_key)
    # When
    first = client.get("/api/v1/items?q=Sivutettava&limit=2", headers=headers).json()
    second = client.get(f"/api/v1/items?q=Sivutettava&limit=2&after={first['next_after']}", headers=headers).json()
    third = client.get(f"/api/v1/items?q=Sivutettava&limit=2&after={second['next_after']}", headers=headers).json()
    # Then
    pages = [first, second, third]
    assert [page["count"] for page in pages] == [2, 2, 1]
    assert [found["item_id"] for page in pages for found in page["data"]] == [item.item_record_id for item in made]
    assert third["next_after"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("label_state=sometimes", "query.label_state"),
        ("writeback_state=lost", "query.writeback_state"),
        ("limit=0", "query.limit"),
        ("limit=501", "query.limit"),
        ("after=-1", "query.after"),
        ("after=abc", "query.after"),
        ("after=9223372036854775808", "query.after"),
        ("has_classification=maybe", "query.has_classification"),
    ],
)
def test_read_items_bad_query_is_422(client: TestClient, printer_key: str, query: str, field: str) -> None:
    # Given / When
    response = client.get(f"/api/v1/items?{query}", headers=key_header(printer_key))
    # Then
    error = assert_api_error(response, 422, "invalid_input")
    assert [detail["field"] for detail in error["details"]] == [field]


def test_read_items_auth_matrix(client: TestClient, db_session: Session) -> None:
    # Given
    _, sync_key = make_client(db_session, role=ClientRole.SYNC)
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    _, revoked_key = make_client(db_session, role=ClientRole.PRINTER, revoked_at=datetime.now(UTC))
    # When / Then
    assert_api_error(client.get("/api/v1/items"), 401, "not_authenticated")
    assert_api_error(client.get("/api/v1/items", headers=key_header("wrong-key-123456")), 401, "not_authenticated")
    assert_api_error(client.get("/api/v1/items", headers=key_header(revoked_key)), 401, "not_authenticated")
    assert_api_error(client.get("/api/v1/items", headers=key_header(sync_key)), 403, "forbidden")
    assert client.get("/api/v1/items", headers=key_header(admin_key)).status_code == 200
