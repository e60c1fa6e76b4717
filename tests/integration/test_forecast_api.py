"""The finish-date forecast (/api/v1/analytics/forecast, its CSV and GraphQL) equals SQL written apart from it."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import Item, LabelEvent
from tarroitus.services.forecast import read_forecast
from tests.api_helpers import key_header
from tests.factories import make_client, make_item
from tests.graphql_helpers import query_data

NOW = datetime.now(UTC).replace(microsecond=0)
#: Where a GraphQL name gets an underscore in REST: labelledLast7Days -> labelled_last_7_days.
SNAKE_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Z])")

#: Per location, the same figures in another shape: first prints from min() over every event, the finish day
#: from numeric division. Columns as the API's, in its order; NULL location sorts with the code "".
EXPECTED_SQL = """
WITH firsts AS (SELECT item_record_id, min(printed_at) AS first_at FROM label_events GROUP BY item_record_id),
scoped AS (
  SELECT i.location_code, i.location_name, i.print_count, i.reprint_needed, f.first_at
  FROM items i LEFT JOIN firsts f USING (item_record_id)
  WHERE i.deleted = false
    AND length(trim(coalesce(nullif(trim(i.classification_override), ''), i.classification, ''))) > 0),
grouped AS (
  SELECT GROUPING(location_code) = 1 AS is_total, location_code, location_name, count(*) AS to_label,
    sum(CASE WHEN print_count > 0 THEN 1 ELSE 0 END) AS labelled,
    sum(CASE WHEN reprint_needed THEN 1 ELSE 0 END) AS reprint,
    sum(CASE WHEN first_at > CAST(:now AS timestamptz) - interval '7 days' AND first_at <= :now
        THEN 1 ELSE 0 END) AS week,
    sum(CASE WHEN first_at > CAST(:now AS timestamptz) - interval '28 days' AND first_at <= :now
        THEN 1 ELSE 0 END) AS month
  FROM scoped GROUP BY GROUPING SETS ((location_code, location_name), ()))
SELECT is_total, location_code, location_name, to_label, labelled,
  to_label - labelled AS remaining, reprint, week, month,
  CASE WHEN to_label = labelled OR week = 0 THEN NULL
       ELSE CAST(:today AS date) + CAST(ceil((to_label - labelled) / (week / 7.0)) AS integer) END AS finish_date,
  CASE WHEN to_label = labelled THEN 'nothing_left' WHEN week = 0 THEN 'no_recent_labelling' END AS reason
FROM grouped
ORDER BY is_total DESC, to_label DESC, coalesce(location_code, ''), coalesce(location_name, '')
"""

COLUMNS = (
    "location_code",
    "location_name",
    "items_to_label",
    "items_labelled",
    "items_remaining",
    "items_reprint_needed",
    "labelled_last_7_days",
    "labelled_last_28_days",
    "finish_date",
    "no_estimate_reason",
)


def printed(session: Session, item: Item, *ages: timedelta) -> Item:
    """Label events `ages` before NOW (the item printed that many times)."""
    for age in ages:
        session.add(
            LabelEvent(
                item_record_id=item.item_record_id,
                classification=item.classification_override or item.classification or "",
                signum=item.signum or "***",
                printed_at=NOW - age,
            )
        )
    item.print_count = len(ages)
    item.last_printed_at = NOW - min(ages)
    item.last_printed_classification = item.classification_override or item.classification
    item.last_printed_signum = item.signum
    session.flush()
    return item


def seed_collection(session: Session) -> None:
    """Four locations: one labelling now, one done, one stopped a while ago, one never started."""
    day = timedelta(days=1)
    pasila = [make_item(session, location_code="pas", location_name="Pasila") for _ in range(11)]
    printed(session, pasila[0], 2 * day)
    printed(session, pasila[1], 3 * day + timedelta(hours=5))
    printed(session, pasila[2], 10 * day, 1 * day)  # first printed 10 days ago: in the 28-day window only
    printed(session, pasila[3], 40 * day, 3 * day)  # reprinted this week: a first print in neither window
    printed(session, pasila[4], 6 * day)
    pasila[4].classification_override = "99.9"  # changed after the print: labelled, and needs a reprint
    printed(session, make_item(session, location_code="pas", location_name="Pasila", deleted=True), 1 * day)
    make_item(session, location_code="pas", location_name="Pasila", classification=None, signum=None)
    make_item(session, location_code="pas", location_name="Pasila", classification="  ")
    make_item(session, location_code="pas", location_name="Pasila", classification=None, classification_override="7")
    for _ in range(3):
        printed(session, make_item(session, location_code="kal", location_name="Kallio"), 60 * day)
    east = [make_item(session, location_code="ita", location_name="Itäkeskus") for _ in range(5)]
    printed(session, east[0], 20 * day)
    for _ in range(2):
        make_item(session, location_code=None, location_name=None)
    session.flush()


def expected_rows(session: Session, *, now: datetime) -> list[tuple[Any, ...]]:
    rows = session.execute(text(EXPECTED_SQL), {"now": now, "today": now.astimezone(UTC).date()}).all()
    return [tuple(row)[1:] for row in rows]


def as_row(entry: dict[str, Any]) -> tuple[Any, ...]:
    values = [entry[column] for column in COLUMNS]
    finish = values[COLUMNS.index("finish_date")]
    values[COLUMNS.index("finish_date")] = None if finish is None else date.fromisoformat(finish)
    return tuple(values)


@pytest.fixture
def admin_key(db_session: Session) -> str:
    return make_client(db_session, role=ClientRole.ADMIN, name="forecast-admin")[1]


def test_forecast_equals_sql_overall_and_per_location(client: TestClient, db_session: Session, admin_key: str) -> None:
    # Given
    seed_collection(db_session)
    # When
    response = client.get("/api/v1/analytics/forecast", headers=key_header(admin_key))
    # Then
    assert response.status_code == 200, response.text
    body = response.json()
    as_of = datetime.fromisoformat(body["as_of"])
    shown = [as_row(body["total"]), *(as_row(entry) for entry in body["by_location"])]
    assert shown == expected_rows(db_session, now=as_of)
    by_code = {entry["location_code"]: entry for entry in body["by_location"]}
    assert {code: entry["no_estimate_reason"] for code, entry in by_code.items()} == {
        "pas": None,
        "kal": "nothing_left",
        "ita": "no_recent_labelling",
        None: "no_recent_labelling",
    }
    pasila = by_code["pas"]
    assert (pasila["labelled_last_7_days"], pasila["labelled_last_28_days"]) == (3, 4)
    assert pasila["rate_7_days"] == round(3 / 7, 2)
    assert by_code["ita"]["rate_28_days"] == round(1 / 28, 2)
    assert body["rate_days"] == 7 and body["today"] == as_of.date().isoformat()


@pytest.mark.parametrize(
    ("ages_of_prints", "reason"),
    [
        pytest.param([timedelta(days=8), timedelta(days=27)], "no_recent_labelling", id="zero-rate"),
        pytest.param([timedelta(hours=1)] * 4, "nothing_left", id="nothing-left"),
    ],
)
def test_forecast_has_no_estimate_and_says_why(
    db_session: Session, ages_of_prints: list[timedelta], reason: str
) -> None:
    # Given: four items, printed as given (the last ones stay unprinted when there are fewer prints)
    items = [make_item(db_session, location_code="pas", location_name="Pasila") for _ in range(4)]
    for item, age in zip(items, ages_of_prints, strict=False):
        printed(db_session, item, age)
    # When
    forecast = read_forecast(db_session, now=NOW)
    # Then
    shown = [tuple(getattr(entry, column) for column in COLUMNS) for entry in (forecast.total, *forecast.by_location)]
    assert shown == expected_rows(db_session, now=NOW)
    assert [entry[-1] for entry in shown] == [reason, reason]
    assert (forecast.total.finish_date, forecast.total.days_to_finish) == (None, None)
    if reason == "no_recent_labelling":
        assert (forecast.total.rate_7_days, forecast.total.labelled_last_28_days) == (0.0, 2)


def test_forecast_csv_has_the_json_figures(client: TestClient, db_session: Session, admin_key: str) -> None:
    # Given
    seed_collection(db_session)
    make_item(db_session, location_code="x", location_name='=HYPERLINK("http://example.invalid")')
    expected = client.get("/api/v1/analytics/forecast", headers=key_header(admin_key)).json()
    # When
    response = client.get("/api/v1/analytics/forecast.csv", headers=key_header(admin_key))
    # Then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="tarroitus-forecast-{expected["today"]}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    entries = [expected["total"], *expected["by_location"]]
    assert len(rows) == len(entries) == 6
    for row, entry in zip(rows, entries, strict=True):
        as_json = {key: "" if value is None else str(value) for key, value in entry.items()}
        if as_json["location_name"].startswith("="):
            as_json["location_name"] = "'" + as_json["location_name"]
        assert row == as_json
    assert rows[0]["scope"] == "total"


def test_graphql_forecast_answers_what_rest_answers(client: TestClient, db_session: Session, admin_key: str) -> None:
    # Given
    seed_collection(db_session)
    fields = (
        "scope locationCode locationName itemsToLabel itemsLabelled itemsRemaining itemsReprintNeeded"
        " labelledLast7Days labelledLast28Days rate7Days rate28Days daysToFinish finishDate noEstimateReason"
    )
    rest = client.get("/api/v1/analytics/forecast", headers=key_header(admin_key)).json()
    # When
    data = query_data(
        client,
        f"{{ analytics {{ forecast {{ today rateDays total {{ {fields} }} byLocation {{ {fields} }} }} }} }}",
        api_key=admin_key,
    )
    # Then
    answer = data["analytics"]["forecast"]

    def as_rest(entry: dict[str, Any]) -> dict[str, Any]:
        return {SNAKE_BOUNDARY.sub("_", key).lower(): value for key, value in entry.items()}

    assert (answer["today"], answer["rateDays"]) == (rest["today"], rest["rate_days"])
    assert as_rest(answer["total"]) == rest["total"]
    assert [as_rest(entry) for entry in answer["byLocation"]] == rest["by_location"]


def test_forecast_needs_an_admin(client: TestClient, db_session: Session) -> None:
    # Given
    printer = make_client(db_session, role=ClientRole.PRINTER, name="forecast-station")[1]
    # When / Then
    for path in ("/api/v1/analytics/forecast", "/api/v1/analytics/forecast.csv"):
        assert client.get(path).status_code == 401
        forbidden = client.get(path, headers=key_header(printer))
        assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
