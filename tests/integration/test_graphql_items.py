"""GraphQL item and label-event queries against PostgreSQL, checked against the services and the REST API."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.api.graphql.cursors import encode_item_cursor
from tarroitus.domain import ClientRole
from tarroitus.models import Client
from tarroitus.services.items import format_label_line
from tarroitus.services.labels.prints import record_print
from tests.api_helpers import key_header
from tests.factories import make_client, make_item
from tests.graphql_helpers import error_codes, post_query, query_data

ITEM_FIELDS = """
    itemId itemNumber barcode bibId bibNumber title author itemTypeCode itemTypeName materialCode materialName
    locationCode callNumber classification signum suppressed deleted
    label { line width printable }
    labelState { state printCount lastPrintedAt lastPrintedBy { id name } }
    writeback { state queuedAt attempts completedAt lastError }
"""
PAGE_QUERY = """
query Page($first: Int!, $after: String, $labelState: LabelState, $writebackState: WritebackState,
           $hasClassification: Boolean, $search: String, $includeDeleted: Boolean! = false) {
  items(first: $first, after: $after, labelState: $labelState, writebackState: $writebackState,
        hasClassification: $hasClassification, search: $search, includeDeleted: $includeDeleted) {
    edges { cursor node { itemId } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture
def printer(db_session: Session) -> tuple[Client, str]:
    return make_client(db_session, role=ClientRole.PRINTER, name="graphql-station")


def page_ids(data: dict[str, object]) -> list[int]:
    items = data["items"]
    assert isinstance(items, dict)
    return [edge["node"]["itemId"] for edge in items["edges"]]


def test_graphql_item_answers_the_same_label_data_as_rest(
    client: TestClient, db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given
    station, key = printer
    item = make_item(db_session, classification="84.2", signum="KIV", material_code="3")
    record_print(db_session, item_id=item.item_record_id, client=station)
    rest = client.get(f"/api/v1/items/{item.barcode}", headers=key_header(key)).json()["data"][0]
    # When
    data = query_data(
        client,
        f"query($id: BigInt!) {{ item(itemId: $id) {{ {ITEM_FIELDS} }} }}",
        api_key=key,
        variables={"id": item.item_record_id},
    )
    # Then
    found = data["item"]
    assert found["itemId"] == item.item_record_id > 2**31
    assert (found["barcode"], found["title"], found["bibId"]) == (rest["barcode"], rest["title"], rest["bib_id"])
    assert (found["classification"], found["signum"], found["materialCode"]) == ("84.2", "KIV", "3")
    assert found["label"] == {"line": format_label_line("84.2", "KIV"), "width": 32, "printable": True}
    assert found["labelState"]["state"] == "PRINTED"
    assert found["labelState"]["printCount"] == rest["label_state"]["print_count"] == 1
    assert found["labelState"]["lastPrintedBy"] == {"id": str(station.id), "name": "graphql-station"}
    assert found["writeback"]["state"] == "QUEUED"
    assert found["writeback"]["attempts"] == rest["writeback"]["attempts"]


def test_graphql_item_unknown_is_null_with_a_not_found_error(client: TestClient, printer: tuple[Client, str]) -> None:
    # Given
    _, key = printer
    # When
    response = post_query(client, "{ item(itemId: 999999999999) { itemId } }", api_key=key)
    # Then
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"item": None}
    assert error_codes(body) == ["item_not_found"]
    assert body["errors"][0]["path"] == ["item"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (f"{{ item(itemId: {2**70}) {{ itemId }} }}", None),
        ("query($id: BigInt!) { item(itemId: $id) { itemId } }", {"id": 2**70}),
        ("query($id: BigInt!) { item(itemId: $id) { itemId } }", {"id": -(2**63) - 1}),
        ("query($id: BigInt!) { labelEvents(itemId: $id) { id } }", {"id": 2**64}),
        ("query($id: BigInt!) { item(itemId: $id) { itemId } }", {"id": 1.5}),
        ("query($id: BigInt!) { item(itemId: $id) { itemId } }", {"id": True}),
        ('{ item(itemId: "12") { itemId } }', None),
    ],
)
def test_graphql_refuses_an_id_that_is_not_a_64_bit_integer_as_invalid_input(
    client: TestClient, printer: tuple[Client, str], query: str, variables: dict[str, object] | None
) -> None:
    # Given
    _, key = printer
    # When
    response = post_query(client, query, api_key=key, variables=variables)
    # Then: a validation error before anything runs, never an internal error
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body, body
    assert error_codes(body) == ["invalid_query"], body
    assert "BigInt" in body["errors"][0]["message"]
    assert body["errors"][0]["locations"], body


def test_graphql_items_by_barcode_lists_duplicates_live_first(
    client: TestClient, db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given
    _, key = printer
    deleted = make_item(db_session, barcode="31234999999901", deleted=True)
    live = make_item(db_session, barcode="31234999999901", classification="99.1", signum="ABC")
    # When
    data = query_data(
        client,
        '{ itemsByBarcode(barcode: "31234999999901", labelWidth: 12) { itemId deleted label { line } } }',
        api_key=key,
    )
    # Then
    assert [found["itemId"] for found in data["itemsByBarcode"]] == [live.item_record_id, deleted.item_record_id]
    assert data["itemsByBarcode"][0]["label"]["line"] == format_label_line("99.1", "ABC", 12)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ itemsByBarcode(barcode: "short") { itemId } }', "invalid_barcode"),
        ('{ itemsByBarcode(barcode: "31234000000000000") { itemId } }', "item_not_found"),
        ('{ itemsByBarcode(barcode: "31234000000000000", labelWidth: 7) { itemId } }', "invalid_input"),
    ],
)
def test_graphql_items_by_barcode_errors_carry_the_rest_codes(
    client: TestClient, printer: tuple[Client, str], query: str, code: str
) -> None:
    # Given
    _, key = printer
    # When
    body = post_query(client, query, api_key=key).json()
    # Then
    assert body["data"] == {"itemsByBarcode": None}
    assert error_codes(body) == [code]


def test_graphql_items_pages_with_opaque_cursors(
    client: TestClient, db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given
    _, key = printer
    ids = sorted(make_item(db_session).item_record_id for _ in range(5))
    # When
    pages: list[list[int]] = []
    after = None
    while True:
        data = query_data(client, PAGE_QUERY, api_key=key, variables={"first": 2, "after": after})
        pages.append(page_ids(data))
        info = data["items"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    # Then
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]
    assert after == encode_item_cursor(ids[3])


def test_graphql_items_filters_like_the_rest_list(
    client: TestClient, db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given
    station, key = printer
    printed = make_item(db_session)
    record_print(db_session, item_id=printed.item_record_id, client=station)
    unclassified = make_item(db_session, classification=None, classification_override=None)
    titled = make_item(db_session, best_title="Kalevala ja muita runoja")
    gone = make_item(db_session, deleted=True)
    base = {"first": 100}
    # When
    printed_ids = page_ids(query_data(client, PAGE_QUERY, api_key=key, variables={**base, "labelState": "PRINTED"}))
    queued_ids = page_ids(query_data(client, PAGE_QUERY, api_key=key, variables={**base, "writebackState": "QUEUED"}))
    bare_ids = page_ids(query_data(client, PAGE_QUERY, api_key=key, variables={**base, "hasClassification": False}))
    found_ids = page_ids(query_data(client, PAGE_QUERY, api_key=key, variables={**base, "search": "kalevala"}))
    live_ids = page_ids(query_data(client, PAGE_QUERY, api_key=key, variables=base))
    all_ids = page_ids(query_data(client, PAGE_QUERY, api_key=key, variables={**base, "includeDeleted": True}))
    # Then
    assert printed_ids == queued_ids == [printed.item_record_id]
    assert bare_ids == [unclassified.item_record_id]
    assert found_ids == [titled.item_record_id]
    assert gone.item_record_id not in live_ids
    assert set(all_ids) == {*live_ids, gone.item_record_id}


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 0}, "invalid_input"),
        ({"first": 101}, "invalid_input"),
        ({"first": 10, "after": "bm90LWEtY3Vyc29y"}, "invalid_cursor"),
        ({"first": 10, "search": ""}, "invalid_input"),
    ],
)
def test_graphql_items_refuses_bad_page_arguments(
    client: TestClient, printer: tuple[Client, str], variables: dict[str, object], code: str
) -> None:
    # Given
    _, key = printer
    # When
    body = post_query(client, PAGE_QUERY, api_key=key, variables=variables).json()
    # Then
    assert body["data"] == {"items": None}
    assert error_codes(body) == [code]


def test_graphql_label_events_lists_prints_newest_first(
    client: TestClient, db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given
    station, key = printer
    item = make_item(db_session, classification="84.2", signum="KIV")
    first = record_print(db_session, item_id=item.item_record_id, client=station)
    reprint = record_print(db_session, item_id=item.item_record_id, client=station, idempotency_key="again-1")
    query = """query($id: BigInt!, $first: Int!) {
      labelEvents(itemId: $id, first: $first) {
        id itemId classification signum labelLine printedAt source client { id name }
      }
    }"""
    # When
    both = query_data(client, query, api_key=key, variables={"id": item.item_record_id, "first": 10})["labelEvents"]
    newest = query_data(client, query, api_key=key, variables={"id": item.item_record_id, "first": 1})["labelEvents"]
    # Then
    assert [event["id"] for event in both] == [reprint.id, first.id]
    assert [event["id"] for event in newest] == [reprint.id]
    assert both[0]["itemId"] == item.item_record_id
    assert (both[0]["classification"], both[0]["signum"], both[0]["source"]) == ("84.2", "KIV", "api")
    assert both[0]["labelLine"] == format_label_line("84.2", "KIV")
    assert both[0]["client"] == {"id": str(station.id), "name": "graphql-station"}


def test_graphql_label_events_of_an_unknown_item_is_not_found(client: TestClient, printer: tuple[Client, str]) -> None:
    # Given
    _, key = printer
    # When
    body = post_query(client, "{ labelEvents(itemId: 999999999998) { id } }", api_key=key).json()
    # Then
    assert body["data"] == {"labelEvents": None}
    assert error_codes(body) == ["item_not_found"]
