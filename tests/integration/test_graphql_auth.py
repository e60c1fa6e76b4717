"""Who may read what through GraphQL: the REST keys and roles, field by field."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.services.labels.prints import record_print
from tests.api_helpers import assert_api_error
from tests.factories import make_client, make_item
from tests.graphql_helpers import GRAPHQL_PATH, error_codes, post_query

PRINTER_FIELDS = {
    "item": "item(itemId: {item_id}) {{ itemId }}",
    "itemsByBarcode": 'itemsByBarcode(barcode: "{barcode}") {{ itemId }}',
    "items": "items(first: 1) {{ edges {{ node {{ itemId }} }} }}",
    "labelEvents": "labelEvents(itemId: {item_id}) {{ id }}",
}
ADMIN_FIELDS = {
    "clients": "clients {{ name }}",
    "status": "status {{ serverTime }}",
    "analytics": "analytics {{ progress {{ itemsTotal }} dataStatus {{ tables {{ table }} }} }}",
}
ALL_FIELDS = {**PRINTER_FIELDS, **ADMIN_FIELDS}


@pytest.fixture
def field_queries(db_session: Session) -> dict[str, str]:
    """Each root field as a one-field query over a printed item."""
    station, _ = make_client(db_session, role=ClientRole.PRINTER)
    item = make_item(db_session)
    record_print(db_session, item_id=item.item_record_id, client=station)
    return {
        name: "{ " + template.format(item_id=item.item_record_id, barcode=item.barcode) + " }"
        for name, template in ALL_FIELDS.items()
    }


@pytest.mark.parametrize("role", [ClientRole.PRINTER, ClientRole.ADMIN])
@pytest.mark.parametrize("field", list(PRINTER_FIELDS))
def test_graphql_printer_fields_answer_printers_and_admins(
    client: TestClient, db_session: Session, field_queries: dict[str, str], role: ClientRole, field: str
) -> None:
    # Given
    _, key = make_client(db_session, role=role)
    # When
    response = post_query(client, field_queries[field], api_key=key)
    # Then
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    assert body["data"][field]


@pytest.mark.parametrize("field", list(ADMIN_FIELDS))
def test_graphql_admin_fields_answer_admins_only(
    client: TestClient, db_session: Session, field_queries: dict[str, str], field: str
) -> None:
    # Given
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    _, printer_key = make_client(db_session, role=ClientRole.PRINTER)
    # When
    as_admin = post_query(client, field_queries[field], api_key=admin_key).json()
    as_printer = post_query(client, field_queries[field], api_key=printer_key).json()
    # Then
    assert "errors" not in as_admin and as_admin["data"][field]
    assert as_printer["data"] == {field: None}
    assert error_codes(as_printer) == ["forbidden"]
    assert as_printer["errors"][0]["path"] == [field]


def test_graphql_printer_keeps_its_fields_beside_a_forbidden_one(
    client: TestClient, db_session: Session, field_queries: dict[str, str]
) -> None:
    # Given
    _, printer_key = make_client(db_session, role=ClientRole.PRINTER)
    query = "{ " + field_queries["items"][1:-1] + field_queries["clients"][1:-1] + " }"
    # When
    body = post_query(client, query, api_key=printer_key).json()
    # Then
    assert body["data"]["items"]["edges"]
    assert body["data"]["clients"] is None
    assert error_codes(body) == ["forbidden"]


@pytest.mark.parametrize("field", list(ALL_FIELDS))
def test_graphql_sync_agents_are_refused_with_403(
    client: TestClient, db_session: Session, field_queries: dict[str, str], field: str
) -> None:
    # Given
    _, sync_key = make_client(db_session, role=ClientRole.SYNC)
    # When
    response = post_query(client, field_queries[field], api_key=sync_key)
    # Then
    assert_api_error(response, 403, "forbidden")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_graphql_without_a_valid_key_is_401(client: TestClient, db_session: Session, method: str) -> None:
    # Given
    _, revoked_key = make_client(db_session, role=ClientRole.ADMIN, revoked_at=datetime.now(UTC))
    query = "{ status { serverTime } }"
    keys: list[dict[str, str]] = [
        {},
        {"X-API-Key": "wrong-key-0000000000"},
        {"Authorization": "Bearer wrong-key-0000000000"},
        {"X-API-Key": revoked_key},
    ]
    for headers in keys:
        # When
        if method == "GET":
            response = client.get(GRAPHQL_PATH, params={"query": query}, headers=headers)
        else:
            response = client.post(GRAPHQL_PATH, json={"query": query}, headers=headers)
        # Then
        assert_api_error(response, 401, "not_authenticated")


def test_graphql_accepts_the_key_as_a_bearer_token(client: TestClient, db_session: Session) -> None:
    # Given
    _, admin_key = make_client(db_session, role=ClientRole.ADMIN)
    # When
    response = client.post(
        GRAPHQL_PATH, json={"query": "{ status { serverTime } }"}, headers={"Authorization": f"Bearer {admin_key}"}
    )
    # Then
    assert response.status_code == 200
    assert response.json()["data"]["status"]["serverTime"]
