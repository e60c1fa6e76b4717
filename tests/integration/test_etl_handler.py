"""The ETL Lambda handler with real event shapes, and /analytics/data_status after its runs."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import Item, JobRun, JobState, LabelEvent
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.clients import register_client
from tarroitus.settings import Settings, get_settings
from tests import analytics_data, moto_fixtures
from tests.events import FakeLambdaContext, scheduler_event
from tests.moto_fixtures import S3Bucket

moto_server = moto_fixtures.moto_server
s3_bucket = moto_fixtures.s3_bucket

RUN_AT = analytics_data.FIRST_DAY + timedelta(days=5, hours=1)


@pytest.fixture
def seeded(s3_bucket: S3Bucket, committed_db: Engine) -> Iterator[analytics_data.SeededData]:
    """Committed operational rows, with the settings aimed at the test bucket."""
    assert get_settings().parquet_bucket == s3_bucket.name
    with session_scope(committed_db) as session:
        data = analytics_data.seed(session)
    yield data


def test_etl_handler_runs_incrementally_on_schedule_and_fully_on_demand(
    committed_db: Engine, seeded: analytics_data.SeededData
) -> None:
    # Given
    from functions.etl.handler import lambda_handler

    # When
    scheduled = lambda_handler(scheduler_event(at=RUN_AT), FakeLambdaContext(remaining_millis=900_000))
    manual = lambda_handler({"mode": "full"}, FakeLambdaContext(remaining_millis=900_000))
    # Then
    exported = len(seeded.items) + len(seeded.clients) + len(seeded.events) + len(seeded.attempts)
    assert (scheduled["outcome"], scheduled["mode"], scheduled["rows"]) == ("succeeded", "incremental", exported)
    assert (manual["outcome"], manual["mode"]) == ("succeeded", "full")
    with Session(committed_db) as session:
        runs = session.scalars(select(JobRun).where(JobRun.job_name == "etl").order_by(JobRun.id)).all()
        state = session.get(JobState, "etl")
    assert [run.counts["run"]["run_date"] for run in runs if run.counts] == [
        RUN_AT.date().isoformat(),
        datetime.now(UTC).date().isoformat(),
    ]
    assert state is not None and state.changes_since is not None
    assert set(scheduled["steps"]) == {"items", "clients", "label_events", "writeback_attempts", "aggregates"}


def test_etl_handler_refuses_an_unknown_mode(seeded: analytics_data.SeededData) -> None:
    # Given
    from functions.etl.handler import lambda_handler
    from tarroitus.errors import InvalidInputError

    assert seeded.items
    # When / Then
    with pytest.raises(InvalidInputError):
        lambda_handler({"mode": "everything"}, FakeLambdaContext())


def test_read_data_status_reports_the_exported_history(
    committed_db: Engine, seeded: analytics_data.SeededData, s3_bucket: S3Bucket, client: TestClient, settings: Settings
) -> None:
    # Given an export, and an administrator
    from tarroitus.jobs import etl

    etl.run(settings, event=scheduler_event(at=RUN_AT, detail={"mode": "full"}))
    with session_scope(committed_db) as session:
        pepper = settings.api_key_pepper.get_secret_value()
        api_key = register_client(session, name="status-admin", role=ClientRole.ADMIN, pepper=pepper).api_key
        first_event, last_event = session.execute(
            select(func.min(LabelEvent.printed_at), func.max(LabelEvent.printed_at))
        ).one()
        item_count = session.scalar(select(func.count()).select_from(Item))
    # When
    response = client.get("/api/v1/analytics/data_status", headers={"X-API-Key": api_key})
    # Then
    assert response.status_code == 200
    body = response.json()
    tables = {table["table"]: table for table in body["tables"]}
    assert body["location"] == f"s3://{s3_bucket.name}/{settings.parquet_prefix}/"
    assert tables["items"]["rows"] == item_count
    assert tables["items"]["first_dt"] == tables["items"]["last_dt"] == RUN_AT.date().isoformat()
    assert tables["label_events"]["rows"] == len(seeded.events)
    assert tables["label_events"]["first_dt"] == first_event.astimezone(UTC).date().isoformat()
    assert tables["label_events"]["last_dt"] == last_event.astimezone(UTC).date().isoformat()
    assert tables["writeback_attempts"]["rows"] == len(seeded.attempts)
    assert tables["clients"]["location"] == f"s3://{s3_bucket.name}/{settings.parquet_prefix}/clients/"
    assert body["first_dt"] == tables["label_events"]["first_dt"]
    assert body["last_run"]["outcome"] == "succeeded"
    assert body["last_run"]["counts"]["items"]["rows"] == item_count
    assert body["exported_until"] is not None
