"""GraphQL analytics: each field answers what its /api/v1/analytics endpoint answers."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.domain import ETL_JOB_NAME, ClientRole
from tarroitus.repositories import job_state
from tarroitus.services.analytics import refresh_aggregates
from tests import analytics_data
from tests.api_helpers import key_header
from tests.factories import make_client
from tests.graphql_helpers import error_codes, post_query, query_data

FIRST_DAY = analytics_data.FIRST_DAY.date()
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")

GROUP = "code name itemsTotal itemsLabelled itemsWrittenBack itemsReprintNeeded"
FIELDS = {
    "progress": (
        "/api/v1/analytics/progress",
        f"progress {{ itemsTotal itemsLabelled itemsWrittenBack itemsReprintNeeded"
        f" byLocation {{ {GROUP} }} byItemType {{ {GROUP} }} }}",
        None,
    ),
    "printsPerDay": (
        f"/api/v1/analytics/prints_per_day?date_from={FIRST_DAY}&date_to={FIRST_DAY + timedelta(days=1)}",
        f'printsPerDay(dateFrom: "{FIRST_DAY}", dateTo: "{FIRST_DAY + timedelta(days=1)}") {{ day labels clients }}',
        "days",
    ),
    "clientThroughput": (
        "/api/v1/analytics/client_throughput",
        "clientThroughput { clientId clientName labels activeDays activeHours labelsPerActiveHour busiestHourLabels"
        " firstPrintedAt lastPrintedAt }",
        "clients",
    ),
    "writebackFailures": (
        "/api/v1/analytics/writeback_failures?top=2",
        "writebackFailures(top: 2) { days { day succeeded failed items }"
        " topErrors { sierraCode httpStatus failures lastError } }",
        None,
    ),
    "classifications": (
        "/api/v1/analytics/classifications?prefix_length=2&limit=3",
        "classifications(prefixLength: 2, limit: 3) { totalLabels classifications { classification labels share } }",
        None,
    ),
    "dataStatus": (
        "/api/v1/analytics/data_status",
        "dataStatus { location firstDt lastDt exportedUntil"
        " tables { table kind location firstDt lastDt partitions rows bytes }"
        " lastRun { startedAt finishedAt outcome counts error } }",
        None,
    ),
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def as_graphql(value: Any) -> Any:
    """A REST body with camelCase keys and datetimes parsed, to compare with a GraphQL answer."""
    if isinstance(value, dict):
        return {camel(key): as_graphql(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_graphql(item) for item in value]
    if isinstance(value, str) and ISO_DATETIME.match(value):
        return datetime.fromisoformat(value)
    return value


def normalised(value: Any) -> Any:
    """A GraphQL answer with datetimes parsed (JSON scalars keep REST's snake_case keys)."""
    if isinstance(value, dict):
        return {key: normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalised(item) for item in value]
    if isinstance(value, str) and ISO_DATETIME.match(value):
        return datetime.fromisoformat(value)
    return value


@pytest.fixture
def admin_key(db_session: Session) -> str:
    """An admin's key, over seeded operational rows, their aggregates and one recorded ETL run."""
    analytics_data.seed(db_session)
    refresh_aggregates(db_session, since=None)
    now = datetime.now(UTC)
    run = job_state.add_run(db_session, job_name=ETL_JOB_NAME, started_at=now - timedelta(minutes=5))
    job_state.finish_run(
        db_session,
        run_id=run.id,
        job_name=ETL_JOB_NAME,
        finished_at=now,
        outcome="succeeded",
        counts={"items": {"rows": 24, "outcome": "succeeded"}},
        error=None,
    )
    return make_client(db_session, role=ClientRole.ADMIN, name="graphql-analytics-admin")[1]


@pytest.mark.parametrize("field", list(FIELDS))
def test_graphql_analytics_answers_what_rest_answers(client: TestClient, admin_key: str, field: str) -> None:
    # Given
    path, selection, rest_key = FIELDS[field]
    rest = client.get(path, headers=key_header(admin_key))
    assert rest.status_code == 200, rest.text
    expected = rest.json() if rest_key is None else rest.json()[rest_key]
    # When
    data = query_data(client, f"{{ analytics {{ {selection} }} }}", api_key=admin_key)
    # Then
    answer = data["analytics"][field]
    assert answer, f"{field} is empty: the seed should give it figures"
    if field == "dataStatus":
        counts = answer["lastRun"].pop("counts")
        assert counts == expected["last_run"].pop("counts") == {"items": {"rows": 24, "outcome": "succeeded"}}
    assert normalised(answer) == as_graphql(expected)


def test_graphql_analytics_refuses_a_reversed_range_in_that_field_only(client: TestClient, admin_key: str) -> None:
    # Given
    query = f"""{{ analytics {{
      progress {{ itemsTotal }}
      printsPerDay(dateFrom: "{FIRST_DAY + timedelta(days=2)}", dateTo: "{FIRST_DAY}") {{ day }}
    }} }}"""
    # When
    body = post_query(client, query, api_key=admin_key).json()
    # Then
    assert body["data"]["analytics"]["printsPerDay"] is None
    assert body["data"]["analytics"]["progress"]["itemsTotal"] > 0
    assert error_codes(body) == ["invalid_input"]
    assert body["errors"][0]["path"] == ["analytics", "printsPerDay"]


@pytest.mark.parametrize(
    "selection",
    [
        "writebackFailures(top: 0) { days { day } }",
        "writebackFailures(top: 101) { days { day } }",
        "classifications(prefixLength: 0) { totalLabels }",
        "classifications(limit: 1001) { totalLabels }",
    ],
)
def test_graphql_analytics_bounds_its_arguments_like_rest(client: TestClient, admin_key: str, selection: str) -> None:
    # When
    body = post_query(client, f"{{ analytics {{ {selection} }} }}", api_key=admin_key).json()
    # Then
    assert error_codes(body) == ["invalid_input"]
