"""GraphQL over HTTP: limits on depth, size and aliases, introspection, GET, request validation, lazy loading."""

import itertools
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from graphql import get_introspection_query
from sqlalchemy.orm import Session

from tarroitus.api.graphql.context import GraphQLContext
from tarroitus.api.graphql.execution import run_query
from tarroitus.api.graphql.limits import MAX_ALIASES, MAX_QUERY_CHARS, MAX_QUERY_DEPTH, MAX_SELECTIONS, MAX_TOKENS
from tarroitus.deadlines import Deadline
from tarroitus.domain import ClientRole
from tarroitus.settings import Settings
from tests.api_helpers import assert_api_error
from tests.database import PROJECT_ROOT
from tests.factories import make_client, make_item
from tests.graphql_helpers import GRAPHQL_PATH, error_codes, post_query, query_data


@pytest.fixture
def admin_key(db_session: Session) -> str:
    return make_client(db_session, role=ClientRole.ADMIN)[1]


def nested(depth: int) -> str:
    """A query whose selections nest `depth` deep, starting from the real `items` field."""
    inner = "itemId"
    for level in range(depth - 3):
        inner = f"f{level} {{ {inner} }}"
    return f"{{ items {{ edges {{ node {{ {inner} }} }} }} }}"


def test_graphql_refuses_an_over_deep_query_before_running_it(client: TestClient, admin_key: str) -> None:
    # Given
    query = nested(MAX_QUERY_DEPTH + 1)
    # When
    response = post_query(client, query, api_key=admin_key)
    # Then
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    depth_errors = [error for error in body["errors"] if "maximum operation depth" in error["message"]]
    assert depth_errors, body
    assert depth_errors[0]["message"] == f"'anonymous' exceeds maximum operation depth of {MAX_QUERY_DEPTH}"
    assert depth_errors[0]["extensions"] == {"code": "invalid_query"}


def test_graphql_refuses_an_over_deep_query_hidden_in_fragments(client: TestClient, admin_key: str) -> None:
    # Given
    query = """
    query Deep { items { ...Edges } }
    fragment Edges on ItemConnection { edges { node { labelState { lastPrintedBy { ...Ref } } } } }
    fragment Ref on ClientRef { name { a { b { c { d } } } } }
    """
    # When
    body = post_query(client, query, api_key=admin_key).json()
    # Then
    assert "data" not in body
    assert f"'Deep' exceeds maximum operation depth of {MAX_QUERY_DEPTH}" in [e["message"] for e in body["errors"]]


def test_graphql_answers_the_deepest_real_query(client: TestClient, db_session: Session, admin_key: str) -> None:
    # Given
    make_item(db_session)
    query = "{ items(first: 1) { edges { node { labelState { lastPrintedBy { name } } writeback { state } } } } }"
    # When
    data = query_data(client, query, api_key=admin_key)
    # Then
    assert data["items"]["edges"][0]["node"]["labelState"] == {"lastPrintedBy": None}


def fragment_explosion(item_id: int, levels: int) -> str:
    """A valid document whose fragments each spread the next twice: 2^levels selections in ~40 characters a level."""
    fragments = "".join(f"fragment F{i} on Item {{ ...F{i + 1} ...F{i + 1} }} " for i in range(levels))
    return f"query {{ item(itemId: {item_id}) {{ ...F0 }} }} {fragments}fragment F{levels} on Item {{ barcode }}"


def test_graphql_refuses_fragments_that_spread_the_next_twice(
    client: TestClient, db_session: Session, admin_key: str
) -> None:
    # Given: twenty levels, an 830-character document selecting a million fields once expanded
    item = make_item(db_session)
    query = fragment_explosion(item.item_record_id, 20)
    assert len(query) < 900
    # When
    body = post_query(client, query, api_key=admin_key).json()
    # Then: refused before anything runs, with the expanded count
    assert "data" not in body
    assert error_codes(body) == ["invalid_query"]
    assert body["errors"][0]["message"] == (
        f"'anonymous' selects {2**20 + 1} fields once its fragments are expanded; the limit is {MAX_SELECTIONS}"
    )


def test_graphql_answers_fragments_within_the_selection_limit(
    client: TestClient, db_session: Session, admin_key: str
) -> None:
    # Given: ten levels select 1,025 fields once expanded, which execution merges into one
    item = make_item(db_session)
    # When
    data = query_data(client, fragment_explosion(item.item_record_id, 10), api_key=admin_key)
    # Then
    assert data == {"item": {"barcode": item.barcode}}


def test_graphql_stops_a_query_past_its_time_budget(app: FastAPI, db_session: Session, admin_key: str) -> None:
    # Given: GRAPHQL_TIME_BUDGET_SECONDS so short it has run out before the first field
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"graphql_time_budget_seconds": 1e-9})
    make_item(db_session)
    # When
    with TestClient(app, raise_server_exceptions=False) as client:
        body = post_query(client, "{ items(first: 5) { edges { node { itemId } } } }", api_key=admin_key).json()
    # Then: one error and no partial data
    assert body["data"] is None
    assert error_codes(body) == ["query_time_budget_exceeded"]
    assert body["errors"][0]["message"].startswith("The query ran past its time budget of 1e-09 s")


def test_graphql_budget_running_out_mid_query_answers_one_error(db_session: Session, settings: Settings) -> None:
    # Given: a clock that ticks once per look, and a query over a page of items and the status
    admin, _ = make_client(db_session, role=ClientRole.ADMIN)
    for _ in range(5):
        make_item(db_session)
    query = (
        "{ items(first: 5) { edges { cursor node { itemId barcode labelState { state } } } } status { serverTime } }"
    )

    def run_until(deadline_tick: int) -> tuple[dict[str, Any], int]:
        ticks = itertools.count()
        deadline = Deadline(at=deadline_tick, clock=lambda: next(ticks))
        context = GraphQLContext(session=db_session, client=admin, settings=settings, deadline=deadline)
        return run_query(context, query=query, variables=None, operation_name=None), next(ticks)

    unhurried, looks_in_full = run_until(10**9)
    # When: the deadline passes a dozen fields in, in the middle of the page
    body, looks = run_until(12)
    # Then: one error and no partial data, and the fields after the deadline were not resolved
    assert "errors" not in unhurried
    assert body["data"] is None
    assert error_codes(body) == ["query_time_budget_exceeded"]
    assert looks < looks_in_full


def test_graphql_refuses_too_many_aliases(client: TestClient, admin_key: str) -> None:
    # Given
    allowed = " ".join(f"a{n}: status {{ serverTime }}" for n in range(MAX_ALIASES))
    too_many = " ".join(f"a{n}: status {{ serverTime }}" for n in range(MAX_ALIASES + 1))
    # When
    allowed_body = post_query(client, f"{{ {allowed} }}", api_key=admin_key).json()
    refused_body = post_query(client, f"{{ {too_many} }}", api_key=admin_key).json()
    # Then
    assert "errors" not in allowed_body and len(allowed_body["data"]) == MAX_ALIASES
    assert "data" not in refused_body
    assert error_codes(refused_body) == ["invalid_query"]
    assert "aliases" in refused_body["errors"][0]["message"]


def test_graphql_refuses_a_document_with_too_many_tokens(client: TestClient, admin_key: str) -> None:
    # Given: each repeated name is a token; the parser stops counting before it looks at what they mean
    query = "{ status { " + "x " * MAX_TOKENS + "} }"
    # When
    body = post_query(client, query, api_key=admin_key).json()
    # Then
    assert "data" not in body
    assert error_codes(body) == ["invalid_query"]
    assert f"more than {MAX_TOKENS} tokens" in body["errors"][0]["message"]


def test_graphql_answers_the_standard_introspection_query(client: TestClient, admin_key: str) -> None:
    # When
    data = query_data(client, get_introspection_query(descriptions=True), api_key=admin_key)
    # Then
    schema = data["__schema"]
    assert schema["queryType"]["name"] == "Query"
    assert schema["mutationType"] is None
    query_type = next(found for found in schema["types"] if found["name"] == "Query")
    assert {field["name"] for field in query_type["fields"]} == {
        "item",
        "itemsByBarcode",
        "items",
        "labelEvents",
        "clients",
        "status",
        "analytics",
    }


def test_graphql_refuses_cyclic_introspection(client: TestClient, admin_key: str) -> None:
    # Given: __Type.fields -> __Field.type -> __Type... grows exponentially with depth
    query = "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }"
    # When
    body = post_query(client, query, api_key=admin_key).json()
    # Then
    assert "data" not in body
    assert error_codes(body) == ["invalid_query"]
    assert "introspection depth" in body["errors"][0]["message"]


@pytest.mark.parametrize("operation", ["mutation { status }", "subscription { status }"])
def test_graphql_has_no_mutations_or_subscriptions(client: TestClient, admin_key: str, operation: str) -> None:
    # When
    body = post_query(client, operation, api_key=admin_key).json()
    # Then
    assert "data" not in body
    assert error_codes(body) == ["invalid_query"]
    assert "not supported" in body["errors"][0]["message"]


def test_graphql_reports_query_errors_with_their_location(client: TestClient, admin_key: str) -> None:
    # When
    syntax = post_query(client, "{ status { ", api_key=admin_key).json()
    unknown = post_query(client, "{ status { nope } }", api_key=admin_key).json()
    # Then
    assert error_codes(syntax) == ["invalid_query"] and "Syntax Error" in syntax["errors"][0]["message"]
    assert error_codes(unknown) == ["invalid_query"]
    assert unknown["errors"][0]["locations"] == [{"line": 1, "column": 12}]


def test_graphql_answers_get_with_variables_and_no_store(
    client: TestClient, db_session: Session, admin_key: str
) -> None:
    # Given
    item = make_item(db_session)
    params = {
        "query": "query One($id: BigInt!) { item(itemId: $id) { itemId barcode } }",
        "variables": json.dumps({"id": item.item_record_id}),
        "operationName": "One",
    }
    # When
    response = client.get(GRAPHQL_PATH, params=params, headers={"X-API-Key": admin_key})
    # Then
    assert response.status_code == 200
    assert response.json() == {"data": {"item": {"itemId": item.item_record_id, "barcode": item.barcode}}}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("variables", ["{not json", "[1, 2]", '"text"'])
def test_graphql_get_refuses_variables_that_are_not_a_json_object(
    client: TestClient, admin_key: str, variables: str
) -> None:
    # When
    response = client.get(
        GRAPHQL_PATH,
        params={"query": "{ status { serverTime } }", "variables": variables},
        headers={"X-API-Key": admin_key},
    )
    # Then
    assert_api_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"query": ""},
        {"query": "{ status { serverTime } }", "variables": [1]},
        {"query": "x" * (MAX_QUERY_CHARS + 1)},
    ],
)
def test_graphql_post_refuses_malformed_requests(client: TestClient, admin_key: str, body: dict[str, object]) -> None:
    # When
    response = client.post(GRAPHQL_PATH, json=body, headers={"X-API-Key": admin_key})
    # Then
    assert_api_error(response, 422, "invalid_input")


def test_graphql_post_runs_the_named_operation(client: TestClient, admin_key: str) -> None:
    # Given
    document = "query A { status { serverTime } } query B { clients { name } }"
    # When
    response = client.post(
        GRAPHQL_PATH, json={"query": document, "operationName": "B"}, headers={"X-API-Key": admin_key}
    )
    # Then
    assert set(response.json()["data"]) == {"clients"}


def test_api_handler_import_leaves_strawberry_unloaded() -> None:
    # Given: a fresh interpreter, as a Lambda cold start
    script = (
        "import sys, functions.api.handler; print(sorted(m for m in ('strawberry', 'graphql') if m in sys.modules))"
    )
    # When
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    # Then
    assert result.stdout.strip() == "[]"
