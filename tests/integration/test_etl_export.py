"""The ETL job against real PostgreSQL and a moto S3 server: content, layout, atomicity, idempotency."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.deadlines import Deadline
from tarroitus.jobs import etl
from tarroitus.models import EtlPartition, JobRun, JobState, LabelEvent
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.etl.frames import frame_from_parquet
from tarroitus.services.etl.location import EXPORTED_TABLES, ParquetLocation
from tarroitus.services.etl.storage import list_partitions, read_manifest, read_partition
from tarroitus.settings import Settings, get_settings
from tests import analytics_data, moto_fixtures
from tests.events import scheduler_event
from tests.integration.etl_support import ManifestFailingS3, expected_frame, exported_frame, keys_under
from tests.moto_fixtures import S3Bucket

moto_server = moto_fixtures.moto_server
s3_bucket = moto_fixtures.s3_bucket

RUN_AT = analytics_data.FIRST_DAY + timedelta(days=5, hours=3)


def scheduled_event(*, at: datetime = RUN_AT, mode: str | None = None) -> dict[str, Any]:
    """The schedule's event of a run at `at`, asking for `mode` in its detail (incremental without one)."""
    return scheduler_event(at=at, detail={"mode": mode} if mode else None)


@contextmanager
def etl_s3(client: ManifestFailingS3) -> Iterator[None]:
    """The ETL job's runs in the block write through `client` (the job's S3 client factory replaced)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(etl, "s3_client", lambda _settings: client)
        yield


@pytest.fixture
def etl_settings(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings aimed at the test bucket, with batches small enough to produce several files per partition."""
    monkeypatch.setenv("ETL_BATCH_ROWS", "5")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.parquet_bucket == s3_bucket.name
    yield settings
    get_settings.cache_clear()


@pytest.fixture
def seeded(committed_db: Engine) -> analytics_data.SeededData:
    with session_scope(committed_db) as session:
        return analytics_data.seed(session)


def test_etl_run_parquet_read_back_equals_database_rows(
    etl_settings: Settings, s3_bucket: S3Bucket, committed_db: Engine, seeded: analytics_data.SeededData
) -> None:
    # Given
    location = ParquetLocation.from_settings(etl_settings)
    # When
    summary = etl.run(etl_settings, event=scheduled_event(mode="full"))
    # Then
    assert summary["outcome"] == "succeeded"
    with Session(committed_db) as session:
        for table in EXPORTED_TABLES:
            expected = expected_frame(session, table)
            assert expected.height > 0
            assert_frame_equal(exported_frame(s3_bucket.client, location, table), expected)
    assert summary["rows"] == len(seeded.items) + len(seeded.clients) + len(seeded.events) + len(seeded.attempts)


def test_etl_partitions_and_manifests_follow_the_hive_layout(
    etl_settings: Settings, s3_bucket: S3Bucket, seeded: analytics_data.SeededData
) -> None:
    # Given
    location = ParquetLocation.from_settings(etl_settings)
    event_days = sorted({event.printed_at.astimezone(UTC).date() for event in seeded.events})
    # When
    etl.run(etl_settings, event=scheduled_event(mode="full"))
    # Then
    assert list_partitions(s3_bucket.client, location, table="items") == [RUN_AT.date()]
    assert list_partitions(s3_bucket.client, location, table="label_events") == event_days
    for table in EXPORTED_TABLES:
        for dt in list_partitions(s3_bucket.client, location, table=table):
            folder = f"{etl_settings.parquet_prefix}/{table}/dt={dt.isoformat()}/"
            manifest = read_manifest(s3_bucket.client, location, table=table, dt=dt)
            assert manifest is not None
            assert keys_under(s3_bucket.client, s3_bucket.name, folder) == sorted(
                [folder + "_manifest.json", *(item.key for item in manifest.files)]
            )
            for item in manifest.files:
                assert item.key.startswith(folder + "part-") and item.key.endswith(".parquet")
                body = s3_bucket.client.get_object(Bucket=s3_bucket.name, Key=item.key)["Body"].read()
                assert body[:4] == b"PAR1" and frame_from_parquet(body).height == item.rows <= 5
            symlinks = s3_bucket.client.get_object(Bucket=s3_bucket.name, Key=location.symlink_key(table, dt))
            uris = [f"s3://{s3_bucket.name}/{item.key}" for item in manifest.files]
            assert symlinks["Body"].read().decode().split() == uris
    events = read_partition(s3_bucket.client, location, table="label_events", dt=event_days[1])
    assert events["printed_at"].dt.date().unique().to_list() == [event_days[1]]


@pytest.mark.usefixtures("seeded")
def test_etl_partition_registry_matches_the_manifests(
    etl_settings: Settings, s3_bucket: S3Bucket, committed_db: Engine
) -> None:
    # Given
    location = ParquetLocation.from_settings(etl_settings)
    # When
    etl.run(etl_settings, event=scheduled_event(mode="full"))
    # Then
    with Session(committed_db) as session:
        registry = session.scalars(select(EtlPartition)).all()
    assert registry
    for partition in registry:
        manifest = read_manifest(s3_bucket.client, location, table=partition.table_name, dt=partition.dt)
        assert manifest is not None
        assert (partition.row_count, partition.file_count, partition.manifest_key) == (
            manifest.row_count,
            len(manifest.files),
            location.manifest_key(partition.table_name, partition.dt),
        )


def test_etl_failure_before_the_manifest_leaves_readers_on_the_previous_state(
    etl_settings: Settings, s3_bucket: S3Bucket, committed_db: Engine, seeded: analytics_data.SeededData
) -> None:
    # Given a committed export, then more prints on an exported day
    location = ParquetLocation.from_settings(etl_settings)
    etl.run(etl_settings, event=scheduled_event(mode="full"))
    day = seeded.events[0].printed_at.astimezone(UTC).date()
    before = {table: exported_frame(s3_bucket.client, location, table) for table in EXPORTED_TABLES}
    keys_before = keys_under(s3_bucket.client, s3_bucket.name, "")
    with Session(committed_db) as session:
        watermark = session.get(JobState, "etl").changes_since
    assert watermark is not None
    with session_scope(committed_db) as session:
        midnight = datetime.combine(day, datetime.min.time(), UTC)
        for item in seeded.items[:7]:
            event = LabelEvent(item_record_id=item.item_record_id, classification="1", signum="X", printed_at=midnight)
            session.add(event)
    failing = ManifestFailingS3(s3_bucket.client)
    # When the rerun dies after uploading data files, before any manifest
    with pytest.raises(etl.EtlStepsFailedError), etl_s3(failing):
        etl.run(etl_settings, event=scheduled_event(mode="full"))
    # Then
    orphans = sorted(set(keys_under(s3_bucket.client, s3_bucket.name, "")) - set(keys_before))
    assert failing.failed_manifests == len(EXPORTED_TABLES)
    assert orphans and all(key.endswith(".parquet") for key in orphans)
    for table in EXPORTED_TABLES:
        assert_frame_equal(exported_frame(s3_bucket.client, location, table), before[table])
    with Session(committed_db) as session:
        state = session.get(JobState, "etl")
        last_run = session.scalars(select(JobRun).order_by(JobRun.id.desc())).first()
    assert state is not None and last_run is not None
    assert last_run.outcome == "failed"
    assert state.changes_since == watermark
    assert last_run.counts is not None
    assert {last_run.counts[table]["outcome"] for table in EXPORTED_TABLES} == {"failed"}
    assert last_run.counts["aggregates"]["outcome"] == "succeeded"


@pytest.mark.usefixtures("seeded")
def test_etl_successful_rerun_after_a_failure_publishes_and_removes_orphans(
    etl_settings: Settings, s3_bucket: S3Bucket, committed_db: Engine
) -> None:
    # Given a failed run that left unmanifested data files
    location = ParquetLocation.from_settings(etl_settings)
    with pytest.raises(etl.EtlStepsFailedError), etl_s3(ManifestFailingS3(s3_bucket.client)):
        etl.run(etl_settings, event=scheduled_event(mode="full"))
    assert exported_frame(s3_bucket.client, location, "items").height == 0
    # When
    etl.run(etl_settings, event=scheduled_event(mode="full"))
    # Then
    with Session(committed_db) as session:
        assert_frame_equal(exported_frame(s3_bucket.client, location, "items"), expected_frame(session, "items"))
    manifested = set()
    for table in EXPORTED_TABLES:
        for dt in list_partitions(s3_bucket.client, location, table=table):
            manifest = read_manifest(s3_bucket.client, location, table=table, dt=dt)
            assert manifest is not None
            manifested |= {item.key for item in manifest.files}
    data_files = {key for key in keys_under(s3_bucket.client, s3_bucket.name, "") if key.endswith(".parquet")}
    assert data_files == manifested


def test_etl_rerun_of_a_day_is_idempotent(
    etl_settings: Settings, s3_bucket: S3Bucket, committed_db: Engine, seeded: analytics_data.SeededData
) -> None:
    # Given
    location = ParquetLocation.from_settings(etl_settings)
    first = etl.run(etl_settings, event=scheduled_event(mode="full"))
    frames = {table: exported_frame(s3_bucket.client, location, table) for table in EXPORTED_TABLES}
    file_count = len(keys_under(s3_bucket.client, s3_bucket.name, ""))
    # When
    second = etl.run(etl_settings, event=scheduled_event(mode="full"))
    # Then
    assert (second["rows"], second["partitions"]) == (first["rows"], first["partitions"])
    for table in EXPORTED_TABLES:
        assert_frame_equal(exported_frame(s3_bucket.client, location, table), frames[table])
    assert len(keys_under(s3_bucket.client, s3_bucket.name, "")) == file_count
    with Session(committed_db) as session:
        registry = session.scalars(select(EtlPartition)).all()
    assert sum(p.row_count for p in registry if p.table_name == "label_events") == len(seeded.events)


def test_etl_incremental_rewrites_only_days_from_the_watermark(
    etl_settings: Settings, s3_bucket: S3Bucket, committed_db: Engine, seeded: analytics_data.SeededData
) -> None:
    # Given a full export, then prints today (after the watermark)
    location = ParquetLocation.from_settings(etl_settings)
    etl.run(etl_settings, event=scheduled_event(mode="full"))
    old_days = list_partitions(s3_bucket.client, location, table="label_events")
    old_tokens = {dt: read_manifest(s3_bucket.client, location, table="label_events", dt=dt) for dt in old_days}
    with session_scope(committed_db) as session:
        session.add(LabelEvent(item_record_id=seeded.items[0].item_record_id, classification="84.2", signum="KIV"))
    today = datetime.now(UTC).date()
    # When
    summary = etl.run(etl_settings, event=scheduled_event(at=RUN_AT + timedelta(days=1)))
    # Then
    assert summary["outcome"] == "succeeded"
    assert list_partitions(s3_bucket.client, location, table="label_events") == sorted({*old_days, today})
    for dt in old_days:
        assert read_manifest(s3_bucket.client, location, table="label_events", dt=dt) == old_tokens[dt]
    assert read_partition(s3_bucket.client, location, table="label_events", dt=today).height == 1
    with Session(committed_db) as session:
        assert_frame_equal(
            exported_frame(s3_bucket.client, location, "label_events"), expected_frame(session, "label_events")
        )
        runs = session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert runs[-1].counts is not None and runs[-1].counts["label_events"]["partitions"] == 1


def test_etl_clients_snapshot_never_carries_key_material(
    etl_settings: Settings, s3_bucket: S3Bucket, seeded: analytics_data.SeededData
) -> None:
    # Given / When
    etl.run(etl_settings, event=scheduled_event(mode="full"))
    # Then
    bodies = [
        s3_bucket.client.get_object(Bucket=s3_bucket.name, Key=key)["Body"].read()
        for key in keys_under(s3_bucket.client, s3_bucket.name, f"{etl_settings.parquet_prefix}/clients/")
    ]
    assert bodies
    secrets = [client.key_hash.encode() for client in seeded.clients] + [b"key_hash", b"192.0.2.7"]
    assert not any(secret in body for body in bodies for secret in secrets)
    location = ParquetLocation.from_settings(etl_settings)
    clients = read_partition(s3_bucket.client, location, table="clients", dt=RUN_AT.date())
    assert "ip_address" not in clients.columns and clients.height == len(seeded.clients)


@pytest.mark.usefixtures("seeded")
def test_etl_past_its_deadline_skips_steps_and_keeps_the_watermark(
    etl_settings: Settings, committed_db: Engine
) -> None:
    # Given
    deadline = Deadline.after(etl.DEADLINE_MARGIN.total_seconds() / 2)
    # When
    summary = etl.run(etl_settings, event=scheduled_event(), deadline=deadline)
    # Then
    assert summary["outcome"] == "partial"
    assert set(summary["steps"].values()) == {"skipped"}
    with Session(committed_db) as session:
        state = session.get(JobState, "etl")
    assert state is not None and state.changes_since is None


def test_etl_second_run_while_one_holds_the_lease_is_skipped(
    etl_settings: Settings, s3_bucket: S3Bucket, committed_db: Engine
) -> None:
    # Given
    from tarroitus.jobs.lease import job_run

    with job_run(committed_db, job_name="etl", lease_seconds=60) as holder:
        assert holder is not None
        # When
        summary = etl.run(etl_settings, event=scheduled_event())
    # Then
    assert summary["outcome"] == "skipped"
    assert keys_under(s3_bucket.client, s3_bucket.name, "") == []


def test_etl_manifest_documents_columns_and_row_counts(
    etl_settings: Settings, s3_bucket: S3Bucket, committed_db: Engine, seeded: analytics_data.SeededData
) -> None:
    # Given / When
    etl.run(etl_settings, event=scheduled_event(mode="full"))
    # Then
    location = ParquetLocation.from_settings(etl_settings)
    raw = s3_bucket.client.get_object(Bucket=s3_bucket.name, Key=location.manifest_key("items", RUN_AT.date()))
    document = json.loads(raw["Body"].read())
    assert document["row_count"] == sum(f["rows"] for f in document["files"]) == len(seeded.items)
    assert document["compression"] == "zstd"
    with Session(committed_db) as session:
        assert list(document["columns"]) == expected_frame(session, "items").columns
    assert date.fromisoformat(document["dt"]) == RUN_AT.date()
