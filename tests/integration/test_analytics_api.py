"""/api/v1/analytics: figures from the aggregate tables equal SQL over the operational tables."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import AnalyticsWritebackDaily, AnalyticsWritebackError, LabelEvent, WritebackAttempt
from tarroitus.services.analytics import refresh_aggregates
from tarroitus.services.clients import register_client
from tarroitus.settings import Settings
from tests import analytics_data

FIRST_DAY = analytics_data.FIRST_DAY.date()


@pytest.fixture
def admin_headers(db_session: Session, settings: Settings) -> dict[str, str]:
    """Headers of a registered administrator."""
    pepper = settings.api_key_pepper.get_secret_value()
    issued = register_client(db_session, name="analytics-admin", role=ClientRole.ADMIN, pepper=pepper)
    return {"X-API-Key": issued.api_key}


@pytest.fixture
def seeded(db_session: Session) -> analytics_data.SeededData:
    """Operational rows with the aggregates computed from them."""
    data = analytics_data.seed(db_session)
    refresh_aggregates(db_session, since=None)
    return data


def rows(session: Session, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(text(sql), params).all()]


@pytest.mark.usefixtures("seeded")
def test_read_progress_equals_sql_over_items(
    client: TestClient, admin_headers: dict[str, str], db_session: Session
) -> None:
    # Given
    [(total, labelled, written_back)] = rows(
        db_session,
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM label_events e"
        " WHERE e.item_record_id = i.item_record_id)), count(*) FILTER (WHERE i.item_record_id IN"
        " (SELECT item_record_id FROM writeback_queue WHERE status = 'done')) FROM items i WHERE NOT i.deleted",
    )
    per_location = rows(
        db_session,
        "SELECT location_code, count(*) FROM items WHERE NOT deleted GROUP BY 1",
    )
    [(overridden_after_print,)] = rows(
        db_session,
        "SELECT count(*) FROM items WHERE NOT deleted AND print_count > 0 AND classification_override IS NOT NULL",
    )
    # When
    response = client.get("/api/v1/analytics/progress", headers=admin_headers)
    # Then
    assert response.status_code == 200
    body = response.json()
    assert (body["items_total"], body["items_labelled"], body["items_written_back"]) == (total, labelled, written_back)
    assert 0 < labelled < total
    assert body["items_reprint_needed"] == overridden_after_print > 0
    assert sum(group["items_reprint_needed"] for group in body["by_location"]) == overridden_after_print
    assert {(group["code"], group["items_total"]) for group in body["by_location"]} == set(per_location)
    assert sum(group["items_labelled"] for group in body["by_item_type"]) == labelled


@pytest.mark.usefixtures("seeded")
def test_read_prints_per_day_filters_the_date_range(
    client: TestClient, admin_headers: dict[str, str], db_session: Session
) -> None:
    # Given
    date_from, date_to = FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=2)
    expected = rows(
        db_session,
        "SELECT (printed_at AT TIME ZONE 'UTC')::date, count(*), count(DISTINCT coalesce(client_id::text, '-'))"
        " FROM label_events WHERE printed_at >= :start AND printed_at < :end GROUP BY 1 ORDER BY 1",
        start=datetime.combine(date_from, datetime.min.time(), UTC),
        end=datetime.combine(date_to + timedelta(days=1), datetime.min.time(), UTC),
    )
    # When
    response = client.get(
        "/api/v1/analytics/prints_per_day",
        params={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        headers=admin_headers,
    )
    # Then
    assert response.status_code == 200
    body = response.json()
    assert [(date.fromisoformat(d["day"]), d["labels"], d["clients"]) for d in body["days"]] == expected
    assert len(expected) == 2
    assert body["total_labels"] == sum(labels for _, labels, _ in expected)


def test_read_prints_per_day_of_one_client(
    client: TestClient, admin_headers: dict[str, str], db_session: Session, seeded: analytics_data.SeededData
) -> None:
    # Given
    station = seeded.clients[1]
    expected = rows(
        db_session,
        "SELECT (printed_at AT TIME ZONE 'UTC')::date, count(*) FROM label_events WHERE client_id = :client"
        " GROUP BY 1 ORDER BY 1",
        client=station.id,
    )
    # When
    response = client.get(
        "/api/v1/analytics/prints_per_day", params={"client_id": str(station.id)}, headers=admin_headers
    )
    # Then
    assert [(date.fromisoformat(d["day"]), d["labels"]) for d in response.json()["days"]] == expected


@pytest.mark.usefixtures("seeded")
def test_read_prints_per_day_rejects_a_reversed_range(client: TestClient, admin_headers: dict[str, str]) -> None:
    # Given / When
    response = client.get(
        "/api/v1/analytics/prints_per_day",
        params={"date_from": "2026-03-10", "date_to": "2026-03-09"},
        headers=admin_headers,
    )
    # Then
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


@pytest.mark.usefixtures("seeded")
def test_read_client_throughput_equals_sql_per_station(
    client: TestClient, admin_headers: dict[str, str], db_session: Session
) -> None:
    # Given
    expected = rows(
        db_session,
        "SELECT c.name, count(*), count(DISTINCT (e.printed_at AT TIME ZONE 'UTC')::date),"
        " count(DISTINCT date_trunc('hour', e.printed_at AT TIME ZONE 'UTC')), min(e.printed_at), max(e.printed_at)"
        " FROM label_events e LEFT JOIN clients c ON c.id = e.client_id GROUP BY e.client_id, c.name",
    )
    busiest = dict(
        rows(
            db_session,
            "SELECT name, max(n) FROM (SELECT c.name, count(*) AS n FROM label_events e LEFT JOIN clients c"
            " ON c.id = e.client_id GROUP BY e.client_id, c.name, date_trunc('hour', e.printed_at)) h GROUP BY name",
        )
    )
    # When
    response = client.get("/api/v1/analytics/client_throughput", headers=admin_headers)
    # Then
    stations = response.json()["clients"]
    assert {
        (
            s["client_name"],
            s["labels"],
            s["active_days"],
            s["active_hours"],
            datetime.fromisoformat(s["first_printed_at"]),
            datetime.fromisoformat(s["last_printed_at"]),
        )
        for s in stations
    } == set(expected)
    assert {s["client_name"]: s["busiest_hour_labels"] for s in stations} == busiest
    assert [s["labels"] for s in stations] == sorted((s["labels"] for s in stations), reverse=True)
    for station in stations:
        assert station["labels_per_active_hour"] == round(station["labels"] / station["active_hours"], 2)


@pytest.mark.usefixtures("seeded")
def test_read_writeback_failures_equals_sql_per_day_and_code(
    client: TestClient, admin_headers: dict[str, str], db_session: Session
) -> None:
    # Given
    days = rows(
        db_session,
        "SELECT (attempted_at AT TIME ZONE 'UTC')::date, sum(CASE WHEN outcome IN ('written', 'skipped_as_done')"
        " THEN 1 ELSE 0 END), sum(CASE WHEN outcome IN ('written', 'skipped_as_done') THEN 0 ELSE 1 END),"
        " count(DISTINCT item_record_id)"
        " FROM writeback_attempts GROUP BY 1 ORDER BY 1",
    )
    codes = rows(
        db_session,
        "SELECT sierra_code, http_status, count(*) FROM writeback_attempts"
        " WHERE outcome NOT IN ('written', 'skipped_as_done')"
        " GROUP BY 1, 2 ORDER BY 3 DESC, 1 NULLS LAST, 2 NULLS LAST LIMIT 2",
    )
    # When
    response = client.get("/api/v1/analytics/writeback_failures", params={"top": 2}, headers=admin_headers)
    # Then
    body = response.json()
    assert [(date.fromisoformat(d["day"]), d["succeeded"], d["failed"], d["items"]) for d in body["days"]] == days
    assert [(e["sierra_code"], e["http_status"], e["failures"]) for e in body["top_errors"]] == codes
    assert all(e["last_error"] for e in body["top_errors"])


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("prefix_length", [None, 2])
def test_read_classifications_equals_sql_distribution(
    client: TestClient, admin_headers: dict[str, str], db_session: Session, prefix_length: int | None
) -> None:
    # Given
    key = f"left(classification, {prefix_length})" if prefix_length else "classification"
    expected = rows(db_session, f"SELECT {key}, count(*) FROM label_events GROUP BY 1 ORDER BY 2 DESC, 1")
    [(total,)] = rows(db_session, "SELECT count(*) FROM label_events")
    params = {"prefix_length": prefix_length} if prefix_length else {}
    # When
    response = client.get("/api/v1/analytics/classifications", params=params, headers=admin_headers)
    # Then
    body = response.json()
    assert body["total_labels"] == total
    assert [(c["classification"], c["labels"]) for c in body["classifications"]] == expected
    assert sum(c["share"] for c in body["classifications"]) == pytest.approx(1.0, abs=1e-4)


def test_refresh_aggregates_from_a_day_equals_a_full_refresh(
    db_session: Session, seeded: analytics_data.SeededData
) -> None:
    # Given a refresh, then attempts on a later day
    later = analytics_data.FIRST_DAY + timedelta(days=10)
    for item in seeded.items[:4]:
        db_session.add(
            WritebackAttempt(
                item_record_id=item.item_record_id, attempted_at=later, outcome="failed_retrying", http_status=500
            )
        )
    db_session.flush()
    # When only the days from `later` on are recomputed
    refresh_aggregates(db_session, since=later - timedelta(hours=1))
    incremental = _daily_tables(db_session)
    refresh_aggregates(db_session, since=None)
    # Then
    assert incremental == _daily_tables(db_session)
    assert (later.date(), 4) in set(incremental["writebacks"])


def _daily_tables(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "writebacks": select(AnalyticsWritebackDaily.day, AnalyticsWritebackDaily.failed),
        "errors": select(
            AnalyticsWritebackError.day, AnalyticsWritebackError.sierra_code, AnalyticsWritebackError.failures
        ),
    }
    return {name: sorted((tuple(row) for row in session.execute(query)), key=repr) for name, query in queries.items()}


@pytest.mark.usefixtures("seeded")
def test_analytics_needs_an_admin(client: TestClient, db_session: Session, settings: Settings) -> None:
    # Given
    pepper = settings.api_key_pepper.get_secret_value()
    printer = register_client(db_session, name="station-x", role=ClientRole.PRINTER, pepper=pepper).api_key
    # When / Then
    assert client.get("/api/v1/analytics/progress").status_code == 401
    forbidden = client.get("/api/v1/analytics/data_status", headers={"X-API-Key": printer})
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")


def test_read_prints_per_day_counts_labels_printed_since_the_last_etl_run(
    client: TestClient, admin_headers: dict[str, str], db_session: Session, seeded: analytics_data.SeededData
) -> None:
    # Given: a label printed today, after the aggregates were refreshed
    now = datetime.now(UTC)
    printed_before = client.get("/api/v1/status", headers=admin_headers).json()["items"]["printed"]
    unprinted = next(item for item in seeded.items if item.print_count == 0 and not item.deleted)
    db_session.add(
        LabelEvent(item_record_id=unprinted.item_record_id, classification="84.2", signum="KIV", printed_at=now)
    )
    unprinted.print_count = 1
    db_session.flush()
    # When
    response = client.get(
        "/api/v1/analytics/prints_per_day",
        params={"date_from": now.date().isoformat(), "date_to": now.date().isoformat()},
        headers=admin_headers,
    )
    # Then: the chart's day has it, as the live progress count does
    assert [(d["day"], d["labels"]) for d in response.json()["days"]] == [(now.date().isoformat(), 1)]
    assert client.get("/api/v1/status", headers=admin_headers).json()["items"]["printed"] == printed_before + 1
