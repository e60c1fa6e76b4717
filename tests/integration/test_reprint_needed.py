"""Stale labels through the API: an item whose classification or signum changed after its last print needs a
reprint; the items API, GraphQL, the status view and the analytics show it, and a reprint clears it."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole, WritebackStatus
from tarroitus.models import Client, Item, WritebackEntry
from tarroitus.services.analytics import refresh_aggregates
from tarroitus.services.items import ItemFilter, get_item, list_items
from tarroitus.services.labels.prints import record_legacy_print, record_print
from tarroitus.services.signum import SIGNUM_MARKER
from tests.api_helpers import key_header
from tests.factories import make_client, make_item
from tests.graphql_helpers import query_data
from tests.uploads import legacy_row, legacy_tsv_gz, shelfmark_json

UPLOAD_TIMESTAMP = "2026-11-20T08:00:00+02:00"


@pytest.fixture
def printer(db_session: Session) -> tuple[Client, str]:
    return make_client(db_session, role=ClientRole.PRINTER, name="reprint-station")


@pytest.fixture
def admin_key(db_session: Session) -> str:
    return make_client(db_session, role=ClientRole.ADMIN, name="reprint-admin")[1]


@pytest.fixture
def agent_key(db_session: Session) -> str:
    return make_client(db_session, role=ClientRole.SYNC, name="reprint-agent")[1]


def item_json(client: TestClient, key: str, item: Item) -> dict[str, Any]:
    response = client.get(f"/api/v1/items/{item.barcode}", headers=key_header(key))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["data"][0]
    return found


def listed_ids(client: TestClient, key: str, **params: Any) -> list[int]:
    response = client.get("/api/v1/items", headers=key_header(key), params=params)
    assert response.status_code == 200, response.text
    return [found["item_id"] for found in response.json()["data"]]


def post_overrides(client: TestClient, key: str, csv: str) -> None:
    files = {"file": ("overrides.csv", csv.encode(), "text/csv")}
    response = client.post("/api/v1/items/classification-overrides", headers=key_header(key), files=files)
    assert response.status_code == 200, response.text


def upload_batch(client: TestClient, key: str, rows: list[dict[str, Any]]) -> None:
    files = {"file": ("data.tsv.gz", legacy_tsv_gz(rows), "application/gzip")}
    response = client.post("/sync", headers={"x-api-key": key}, files=files, data={"timestamp": UPLOAD_TIMESTAMP})
    assert response.status_code == 200, response.text


def test_override_after_the_print_needs_a_reprint_and_the_reprint_clears_it(
    client: TestClient, db_session: Session, printer: tuple[Client, str], admin_key: str
) -> None:
    # Given: two printed items, one of which gets an override afterwards
    key = printer[1]
    stale = make_item(db_session, classification="84.2", signum="KIV")
    current = make_item(db_session, classification="84.2", signum="KIV")
    for item in (stale, current):
        assert client.post(f"/api/v1/items/{item.item_record_id}/labels", headers=key_header(key)).status_code == 201
    assert item_json(client, key, stale)["reprint_needed"] is False
    # When
    post_overrides(client, admin_key, f"item_record_id,classification\n{stale.item_record_id},99.1\n")
    db_session.expire_all()  # requests share the test's session; the override was written with plain SQL
    # Then
    found = item_json(client, key, stale)
    assert (found["classification"], found["signum"], found["reprint_needed"]) == ("99.1", "KIV", True)
    assert (found["label_state"]["last_printed_classification"], found["label_state"]["last_printed_signum"]) == (
        "84.2",
        "KIV",
    )
    assert item_json(client, key, current)["reprint_needed"] is False
    assert listed_ids(client, key, reprint_needed="true") == [stale.item_record_id]
    assert stale.item_record_id not in listed_ids(client, key, reprint_needed="false")
    assert current.item_record_id in listed_ids(client, key, reprint_needed="false")
    # When: the station reprints
    reprinted = client.post(f"/api/v1/items/{stale.item_record_id}/labels", headers=key_header(key))
    # Then: the state is cleared and the new classification is what the writeback will write
    assert reprinted.status_code == 201
    found = item_json(client, key, stale)
    assert (found["reprint_needed"], found["label_state"]["last_printed_classification"]) == (False, "99.1")
    assert listed_ids(client, key, reprint_needed="true") == []
    entry = db_session.get(WritebackEntry, stale.item_record_id, populate_existing=True)
    assert entry is not None and (entry.status, entry.classification) == (WritebackStatus.QUEUED, "99.1")


def test_legacy_upload_changing_the_classification_or_the_signum_needs_a_reprint(
    client: TestClient, db_session: Session, printer: tuple[Client, str], agent_key: str
) -> None:
    # Given: three items from the agent, all printed
    upload_batch(client, agent_key, [legacy_row(7001), legacy_row(7002), legacy_row(7003)])
    for item_id in (7001, 7002, 7003):
        record_print(db_session, item_id=item_id, client=printer[0])
    # When: the next batch changes one's 097, another's main entry (signum JAN -> LIN), and nothing on the third
    upload_batch(
        client,
        agent_key,
        [
            legacy_row(7001, classification="85.1"),
            legacy_row(7002, shelfmark_json=shelfmark_json("Linna, Väinö")),
            legacy_row(7003, best_title="Muumipeikko ja pyrstötähti"),
        ],
    )
    # Then
    views = {item_id: get_item(db_session, item_id=item_id) for item_id in (7001, 7002, 7003)}
    assert {item_id: view.reprint_needed for item_id, view in views.items()} == {7001: True, 7002: True, 7003: False}
    assert (views[7002].signum, views[7002].label_state.last_printed_signum) == ("LIN", "JAN")


def test_legacy_print_without_a_classification_needs_a_reprint_once_one_arrives(
    client: TestClient, db_session: Session, printer: tuple[Client, str], agent_key: str
) -> None:
    # Given: a legacy station printed a label with no classification on it
    upload_batch(client, agent_key, [legacy_row(7101, classification=None)])
    record_legacy_print(db_session, item_id=7101, client=printer[0])
    assert get_item(db_session, item_id=7101).reprint_needed is False
    # When: the 097 arrives with the next batch
    upload_batch(client, agent_key, [legacy_row(7101, classification="84.2")])
    # Then
    assert get_item(db_session, item_id=7101).reprint_needed is True


def test_items_never_printed_deleted_or_without_a_classification_need_no_reprint(
    db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given: printed items that then changed, but are deleted or lost their classification; and an unprinted one
    deleted = make_item(db_session, classification="84.2")
    unclassified = make_item(db_session, classification="84.2")
    never_printed = make_item(db_session, classification="84.2")
    for item in (deleted, unclassified):
        record_print(db_session, item_id=item.item_record_id, client=printer[0])
    # When
    db_session.execute(
        text("UPDATE items SET deleted = true, classification = '85.1' WHERE item_record_id = :id"),
        {"id": deleted.item_record_id},
    )
    db_session.execute(
        text("UPDATE items SET classification = NULL WHERE item_record_id = :id"), {"id": unclassified.item_record_id}
    )
    db_session.execute(
        text("UPDATE items SET classification = '85.1' WHERE item_record_id = :id"),
        {"id": never_printed.item_record_id},
    )
    # Then
    for item in (deleted, unclassified, never_printed):
        assert get_item(db_session, item_id=item.item_record_id).reprint_needed is False


def test_label_printed_with_the_signum_marker_needs_a_reprint_once_the_bib_gives_a_signum(
    db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given: an item whose bib has no usable main entry was printed with the marker
    item = make_item(db_session, signum=None, main_entry=None)
    printed = record_print(db_session, item_id=item.item_record_id, client=printer[0])
    assert printed.signum == SIGNUM_MARKER
    assert get_item(db_session, item_id=item.item_record_id).reprint_needed is False
    # When
    item.signum = "KIV"
    db_session.flush()
    # Then
    assert get_item(db_session, item_id=item.item_record_id).reprint_needed is True


def test_legacy_look_up_of_a_stale_item_answers_the_same_fields(
    client: TestClient, db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given: a printed item whose classification changed, and an item never printed
    item, unprinted = make_item(db_session, classification="84.2", signum="KIV"), make_item(db_session)
    record_print(db_session, item_id=item.item_record_id, client=printer[0])
    item.classification = "85.1"
    db_session.flush()
    # When
    response = client.get(f"/itemdata/{item.barcode}", headers={"x-api-key": printer[1]})
    reference = client.get(f"/itemdata/{unprinted.barcode}", headers={"x-api-key": printer[1]})
    # Then: the station sees the label to print now, in the fields every item has, and nothing new
    assert response.status_code == reference.status_code == 200
    body = response.json()
    assert list(body) == list(reference.json())
    assert "reprint_needed" not in body
    assert (body["classification"], body["shelfmark"]) == ("85.1", "KIV")


def test_graphql_shows_reprint_needed_and_filters_on_it(
    client: TestClient, db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given
    station, key = printer
    stale, current = make_item(db_session, signum="KIV"), make_item(db_session, signum="KIV")
    for item in (stale, current):
        record_print(db_session, item_id=item.item_record_id, client=station)
    stale.signum = "LIN"
    db_session.flush()
    # When
    data = query_data(
        client,
        """query($id: BigInt!) {
             item(itemId: $id) { reprintNeeded labelState { lastPrintedClassification lastPrintedSignum } }
             stale: items(reprintNeeded: true) { edges { node { itemId } } }
             fresh: items(reprintNeeded: false) { edges { node { itemId } } }
           }""",
        api_key=key,
        variables={"id": stale.item_record_id},
    )
    # Then
    assert data["item"] == {
        "reprintNeeded": True,
        "labelState": {"lastPrintedClassification": "84.2", "lastPrintedSignum": "KIV"},
    }
    assert [edge["node"]["itemId"] for edge in data["stale"]["edges"]] == [stale.item_record_id]
    assert current.item_record_id in [edge["node"]["itemId"] for edge in data["fresh"]["edges"]]
    assert stale.item_record_id not in [edge["node"]["itemId"] for edge in data["fresh"]["edges"]]


def test_status_and_analytics_count_the_items_needing_a_reprint(
    client: TestClient, db_session: Session, printer: tuple[Client, str], admin_key: str
) -> None:
    # Given: three printed items at two locations, two of which changed since
    items = [
        make_item(db_session, location_code="pas", location_name="Pasila"),
        make_item(db_session, location_code="pas", location_name="Pasila"),
        make_item(db_session, location_code="kal", location_name="Kallio"),
    ]
    for item in items:
        record_print(db_session, item_id=item.item_record_id, client=printer[0])
    items[0].classification_override = "99.1"
    items[2].signum = "LIN"
    db_session.flush()
    refresh_aggregates(db_session, since=None)
    # When
    status = client.get("/api/v1/status", headers=key_header(admin_key)).json()
    progress = client.get("/api/v1/analytics/progress", headers=key_header(admin_key)).json()
    graphql = query_data(
        client,
        "{ status { items { reprintNeeded } } analytics { progress { itemsReprintNeeded } } }",
        api_key=admin_key,
    )
    # Then
    assert status["items"]["reprint_needed"] == 2
    assert progress["items_reprint_needed"] == 2
    by_location = {group["code"]: group["items_reprint_needed"] for group in progress["by_location"]}
    assert by_location == {"pas": 1, "kal": 1}
    assert graphql == {"status": {"items": {"reprintNeeded": 2}}, "analytics": {"progress": {"itemsReprintNeeded": 2}}}


def test_listing_items_that_need_a_reprint_reads_the_partial_index(
    db_session: Session, printer: tuple[Client, str]
) -> None:
    # Given: the statement the item list sends for `reprint_needed=true`
    item = make_item(db_session, classification="84.2")
    record_print(db_session, item_id=item.item_record_id, client=printer[0])
    item.classification = "85.1"
    db_session.flush()
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", capture)
    try:
        page = list_items(db_session, filters=ItemFilter(reprint_needed=True), after=None, limit=50)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    assert [view.item_id for view in page.items] == [item.item_record_id]
    [(statement, parameters)] = [found for found in statements if "FROM items" in found[0]]
    # When: the planner may not scan the whole table
    db_session.execute(text("SET LOCAL enable_seqscan = off"))
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Then
    assert "ix_items_reprint_needed" in plan, plan
