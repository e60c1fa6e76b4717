"""Helpers for GraphQL API tests: post a query with a key, read data and errors."""

from typing import Any

import httpx
from fastapi.testclient import TestClient

GRAPHQL_PATH = "/api/v1/graphql"


def post_query(
    client: TestClient, query: str, *, api_key: str | None = None, variables: dict[str, Any] | None = None
) -> httpx.Response:
    """POST a GraphQL query, with the key in X-API-Key when given."""
    headers = {"X-API-Key": api_key} if api_key else {}
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return client.post(GRAPHQL_PATH, json=body, headers=headers)


def query_data(client: TestClient, query: str, *, api_key: str, variables: dict[str, Any] | None = None) -> Any:
    """The `data` of a query that must succeed without errors."""
    response = post_query(client, query, api_key=api_key, variables=variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def error_codes(body: dict[str, Any]) -> list[str]:
    """The `extensions.code` of each error in a GraphQL response body."""
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
