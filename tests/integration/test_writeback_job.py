"""The writeback job and its Lambda handler: scheduled and manual events, run records, leases, abandoned claims."""

import importlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.deadlines import Deadline
from tarroitus.domain import WritebackStatus
from tarroitus.jobs import sierra_writeback
from tarroitus.models import Item, JobRun, JobState, WritebackAttempt, WritebackEntry
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.settings import Settings, get_settings
from tarroitus.sierra import SierraAuthError
from tests.events import FakeLambdaContext, scheduler_event
from tests.sierra_fixtures import RunningSimulator, run_simulator


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(item_count=100) as running:
        yield running


def point_at_simulator(monkeypatch: pytest.MonkeyPatch, simulator: RunningSimulator) -> None:
    """Aim the settings read from the environment at the simulator, with its credentials."""
    monkeypatch.setenv("SIERRA_API_ENDPOINT", simulator.base_url)
    monkeypatch.setenv("SIERRA_API_CLIENT_KEY", simulator.config.client_key)
    monkeypatch.setenv("SIERRA_API_CLIENT_SECRET", simulator.config.client_secret)
    get_settings.cache_clear()


@pytest.fixture
def sierra_settings(monkeypatch: pytest.MonkeyPatch, simulator: RunningSimulator) -> Iterator[Settings]:
    """The test settings, pointing at the simulator."""
    point_at_simulator(monkeypatch, simulator)
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch, simulator: RunningSimulator) -> Iterator[ModuleType]:
    """The writeback Lambda module, imported with settings that point at the simulator."""
    point_at_simulator(monkeypatch, simulator)
    monkeypatch.setenv("SIERRA_API_CLIENT_POOL_SIZE", "4")
    monkeypatch.setenv("SIERRA_UPDATE_BACKOFF_BASE_SECONDS", "0")
    get_settings.cache_clear()
    module = importlib.import_module("functions.sierra_writeback.handler")
    yield importlib.reload(module)
    get_settings.cache_clear()


def queue_live_items(
    engine: Engine, simulator: RunningSimulator, count: int, *, queued_at: datetime | None = None
) -> list[int]:
    """`count` live simulator items, labelled and queued."""
    ids = [
        item_id
        for item_id in range(simulator.store.first_item_id, simulator.store.last_item_id + 1)
        if not (simulator.store.get_item_raw(item_id) or {"deleted": True}).get("deleted")
    ][:count]
    with session_scope(engine) as session:
        session.add_all(Item(item_record_id=item_id) for item_id in ids)
        session.flush()
        for item_id in ids:
            queue.enqueue_item(session, item_record_id=item_id, classification="84.2", now=queued_at)
    return ids


def statuses(engine: Engine) -> dict[int, WritebackStatus]:
    with Session(engine) as session:
        return {row.item_record_id: row.status for row in session.scalars(select(WritebackEntry))}


def test_handler_writes_the_queue_and_records_the_run(
    committed_db: Engine, simulator: RunningSimulator, handler: ModuleType
) -> None:
    # Given
    ids = queue_live_items(committed_db, simulator, 12)
    # When the schedule invokes the Lambda
    result = handler.lambda_handler(scheduler_event(), FakeLambdaContext(remaining_millis=120_000))
    # Then
    assert result["outcome"] == "succeeded"
    assert (result["written"], result["skipped_as_done"], result["retried"], result["dead_lettered"]) == (12, 0, 0, 0)
    assert set(statuses(committed_db).values()) == {WritebackStatus.DONE}
    assert simulator.store.put_counts() == dict.fromkeys(ids, 1)
    with Session(committed_db) as session:
        (run,) = session.scalars(select(JobRun).where(JobRun.job_name == "sierra_writeback")).all()
        state = session.get(JobState, "sierra_writeback")
    assert (run.outcome, run.counts["written"], run.counts["claimed"]) == ("succeeded", 12, 12)
    assert state is not None
    assert (state.last_run_outcome, state.lease_owner) == ("succeeded", None)


def test_handler_accepts_a_manual_event_and_an_empty_queue(
    committed_db: Engine, simulator: RunningSimulator, handler: ModuleType
) -> None:
    # Given nothing queued / When invoked by hand
    result = handler.lambda_handler({"mode": "writeback"}, FakeLambdaContext())
    # Then
    assert (result["outcome"], result["claimed"], result["written"]) == ("succeeded", 0, 0)
    assert simulator.store.put_counts() == {}
    with Session(committed_db) as session:
        (run,) = session.scalars(select(JobRun)).all()
    assert (run.outcome, run.counts["claimed"]) == ("succeeded", 0)


def test_run_does_nothing_while_another_run_holds_the_lease(
    committed_db: Engine, sierra_settings: Settings, simulator: RunningSimulator
) -> None:
    # Given a run in progress elsewhere
    queue_live_items(committed_db, simulator, 3)
    with session_scope(committed_db) as session:
        session.add(
            JobState(
                job_name="sierra_writeback",
                lease_owner="elsewhere",
                lease_expires_at=datetime.now(UTC) + timedelta(minutes=5),
            )
        )
    # When
    result = sierra_writeback.run(sierra_settings, event=scheduler_event())
    # Then
    assert (result["outcome"], result["written"]) == ("skipped", 0)
    assert set(statuses(committed_db).values()) == {WritebackStatus.QUEUED}


def test_run_takes_over_an_abandoned_claim(
    committed_db: Engine, sierra_settings: Settings, simulator: RunningSimulator
) -> None:
    # Given an item claimed 20 minutes ago by an invocation that died
    (item_id,) = queue_live_items(committed_db, simulator, 1, queued_at=datetime.now(UTC) - timedelta(hours=1))
    with session_scope(committed_db) as session:
        queue.claim_batch(session, owner="died", now=datetime.now(UTC) - timedelta(minutes=20), limit=1)
    # When
    result = sierra_writeback.run(sierra_settings, event=scheduler_event())
    # Then it is written, and the lost attempt is on record
    assert (result["claims_expired"], result["written"]) == (1, 1)
    with Session(committed_db) as session:
        outcomes = session.scalars(select(WritebackAttempt.outcome).order_by(WritebackAttempt.id)).all()
        entry = session.get(WritebackEntry, item_id)
    assert outcomes == ["claim_expired", "written"]
    assert entry is not None
    assert (entry.status, entry.attempts) == (WritebackStatus.DONE, 2)


def test_run_dead_letters_an_abandoned_claim_out_of_attempts(
    committed_db: Engine, sierra_settings: Settings, simulator: RunningSimulator
) -> None:
    # Given an item whose every allowed attempt was abandoned
    (item_id,) = queue_live_items(committed_db, simulator, 1, queued_at=datetime.now(UTC) - timedelta(hours=2))
    options = sierra_settings.model_copy(update={"sierra_update_max_attempts": 2})
    for minutes_ago in (60, 40):
        with session_scope(committed_db) as session:
            queue.claim_batch(session, owner="died", now=datetime.now(UTC) - timedelta(minutes=minutes_ago), limit=1)
    # When
    result = sierra_writeback.run(options, event=scheduler_event())
    # Then nothing is written and the item waits for an operator
    assert (result["dead_lettered"], result["written"], result["outcome"]) == (1, 0, "partial")
    assert statuses(committed_db) == {item_id: WritebackStatus.DEAD}
    assert simulator.store.put_counts() == {}


def test_run_with_refused_credentials_fails_and_loses_nothing(
    committed_db: Engine, sierra_settings: Settings, simulator: RunningSimulator
) -> None:
    # Given Sierra refuses the client's credentials
    queue_live_items(committed_db, simulator, 6)
    refused = sierra_settings.model_copy(update={"sierra_api_client_secret": SecretStr("wrong")})
    deadline = Deadline(at=time.monotonic() + 120)
    # When / Then the run fails loudly
    with pytest.raises(SierraAuthError):
        sierra_writeback.run(refused, event=scheduler_event(), deadline=deadline)
    # Then every item is still queued, the run is on record as failed
    assert set(statuses(committed_db).values()) == {WritebackStatus.QUEUED}
    with Session(committed_db) as session:
        (run,) = session.scalars(select(JobRun)).all()
        failures = session.scalars(select(WritebackAttempt.http_status)).all()
    assert run.outcome == "failed"
    assert run.error is not None and "SierraAuthError" in run.error
    assert run.counts["retried"] == len(failures) >= 1
