"""The writeback under faults: Sierra errors, locks, timeouts, token expiry, maintenance, budgets, crashes.

Each scenario queues labelled items, runs the scheduled job (one invocation per simulated minute)
until the queue drains, and then checks the acceptance bar in `WritebackHarness.verify`: every item
written to Sierra exactly once or dead-lettered with its error; nothing lost, nothing duplicated.
"""

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.domain import WRITEBACK_JOB_NAME, ClientRole, WritebackStatus
from tarroitus.jobs import sierra_writeback
from tarroitus.models import Client, JobState, WritebackAttempt, WritebackEntry
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.labels.prints import record_print
from tarroitus.services.writeback import queue as writeback_service
from tarroitus.services.writeback.queue import retry_dead_letters
from tarroitus.settings import Settings
from tests.events import scheduler_event
from tests.factories import make_client, make_item
from tests.reliability.writeback_harness import CLASSIFICATION, WritebackHarness, fault_settings, live_item_ids
from tests.sierra_fixtures import RunningSimulator

ITEMS = 40


@pytest.fixture
def harness(
    committed_db: Engine, simulator: RunningSimulator, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> WritebackHarness:
    """A harness on the committed database and the reset simulator; the job's Sierra client is the harness's."""
    harness = WritebackHarness(engine=committed_db, simulator=simulator, settings=fault_settings(settings))
    monkeypatch.setattr(sierra_writeback, "build_writeback_client", harness.client)
    return harness


def attempts_by_outcome(engine: Engine) -> dict[str, int]:
    """How many writeback attempts ended each way."""
    with Session(engine) as session:
        outcomes = session.scalars(select(WritebackAttempt.outcome)).all()
    return {outcome: outcomes.count(outcome) for outcome in set(outcomes)}


def test_writeback_server_error_bursts_write_every_item_once(harness: WritebackHarness) -> None:
    # Given: a fifth of Sierra's answers are 500, 502 or 503, on reads and writes alike
    harness.queue_items(ITEMS)
    harness.simulator.set_faults(seed=11, error_rates={500: 0.08, 502: 0.04, 503: 0.08})
    # When
    harness.drain()
    # Then
    outcome = harness.verify("writeback_5xx_bursts")
    assert outcome.faults > 0
    assert outcome.dead_lettered == 0


def test_writeback_record_locks_are_retried_until_written(harness: WritebackHarness) -> None:
    # Given: the first 25 PUTs find the record locked by a cataloguer (409, code 133)
    harness.queue_items(ITEMS)
    harness.simulator.set_faults(fail_next=[409] * 25, methods=["PUT"])
    # When
    harness.drain()
    # Then
    outcome = harness.verify("writeback_409_record_locks")
    assert outcome.faults == 25
    assert outcome.dead_lettered == 0
    # A failed attempt used all three of the client's tries of a PUT (the first and two retries). While
    # locks remain every PUT is refused, so only the attempts in flight when they run out (one per
    # concurrent PUT) can have met a lock and still written, on their second or third try.
    failed_attempts = attempts_by_outcome(harness.engine)["failed_retrying"]
    locks_met_by_written_attempts = 2 * harness.settings.sierra_update_concurrency
    assert 3 * failed_attempts <= outcome.faults <= 3 * failed_attempts + locks_met_by_written_attempts


def test_writeback_timeouts_whose_writes_land_late_are_not_written_twice(harness: WritebackHarness) -> None:
    # Given: one request in six hangs past the client's timeout, and a hung PUT still lands afterwards
    harness.settings = fault_settings(harness.settings, sierra_api_client_timeout_seconds=0.3)
    harness.queue_items(ITEMS)
    harness.simulator.set_faults(seed=5, timeout_rate=0.16, hang_seconds=0.6)
    # When: the next run comes a minute later, long after any hung request has finished
    harness.drain(settle_seconds=0.7)
    # Then
    outcome = harness.verify("writeback_timeouts")
    assert outcome.faults > 0
    assert outcome.dead_lettered == 0


def test_writeback_token_expiry_mid_run_is_recovered(harness: WritebackHarness) -> None:
    # Given: Sierra forgets every issued token twice while the run is writing (as after a restart)
    harness.queue_items(ITEMS)
    harness.simulator.set_faults(latency_ms=20)
    stop = threading.Event()

    def expire_tokens() -> None:
        # After the fifth and the twentieth PUT: mid-run whatever the machine's load.
        for puts in (5, 20):
            while len(harness.simulator.store.put_log) < puts:
                if stop.wait(0.005):
                    return
            harness.simulator.set_faults(expire_tokens=True)

    expirer = threading.Thread(target=expire_tokens)
    expirer.start()
    # When
    try:
        result = harness.run()
    finally:
        stop.set()
        expirer.join()
    harness.drain()
    # Then
    refused_tokens = int(harness.simulator.stats()["by_status"].get("401", 0))
    harness.extra_faults = refused_tokens
    outcome = harness.verify("writeback_token_expiry")
    assert refused_tokens >= 1
    assert result["outcome"] == "succeeded"
    assert outcome.dead_lettered == 0


def test_writeback_maintenance_window_of_minutes_spends_no_attempts_and_resumes(harness: WritebackHarness) -> None:
    # Given: Sierra is in a maintenance window (503, code 117) for ten minutes of scheduled runs, far longer
    # than the 5 answers in a row that mark a window
    harness.queue_items(ITEMS)
    harness.simulator.set_faults(maintenance=True)
    threshold = harness.settings.sierra_api_maintenance_threshold
    during: list[dict[str, Any]] = []
    for _ in range(10):
        answered = harness.simulator.stats()["by_status"].get("503", 0)
        during.append({**harness.run(), "answers": harness.simulator.stats()["by_status"]["503"] - answered})
        harness.advance(60)
    with Session(harness.engine) as session:
        rows = session.scalars(select(WritebackEntry)).all()
    attempts_during = attempts_by_outcome(harness.engine)
    # When: the window ends, and the next scheduled run comes
    harness.simulator.set_faults(maintenance=False)
    resumed = harness.run()
    harness.drain()
    # Then: each run stopped after the threshold's worth of 503s, no item spent an attempt or waited for a
    # backoff, and the first run after the window wrote everything once
    outcome = harness.verify("writeback_maintenance_window")
    assert {run["outcome"] for run in during} == {"paused"}
    assert all(threshold <= run["answers"] <= threshold + harness.settings.sierra_update_concurrency for run in during)
    assert attempts_during == {}
    assert {(row.status, row.attempts, row.claimed_by) for row in rows} == {(WritebackStatus.QUEUED, 0, None)}
    assert (resumed["outcome"], resumed["written"]) == ("succeeded", ITEMS)
    assert outcome.dead_lettered == 0


def test_writeback_time_budget_exhausted_mid_batch_resumes_next_run(harness: WritebackHarness) -> None:
    # Given: slow answers and an invocation with a second left to start items in
    harness.queue_items(ITEMS)
    harness.simulator.set_faults(latency_ms=40)
    # When
    first = harness.run(budget_seconds=1.0)
    harness.drain(budget_seconds=0.5)
    # Then: the first run stopped part-way and handed back what it had claimed but not started
    harness.extra_faults = sum(1 for result in harness.results if result["released"])
    outcome = harness.verify("writeback_time_budget")
    assert 0 < first["written"] < ITEMS
    assert harness.counts["released"] > 0
    assert outcome.runs > 2


def test_writeback_crash_after_the_put_before_recording_is_not_written_twice(harness: WritebackHarness) -> None:
    # Given: the invocation dies after its first PUTs answered, before any outcome is stored
    harness.queue_items(ITEMS)
    real_record = writeback_service._record
    crashed = threading.Event()

    def record_or_crash(run: object, results: object) -> None:
        if not crashed.is_set():
            crashed.set()
            raise ConnectionError("the invocation died before recording its outcomes")
        real_record(run, results)  # type: ignore[arg-type]

    with mock.patch.object(writeback_service, "_record", record_or_crash), pytest.raises(ConnectionError):
        harness.run()
    harness.extra_faults = 1
    written_before = set(harness.simulator.store.put_counts())
    # When: later runs take over the abandoned claims once their visibility timeout passes
    harness.advance(16 * 60)
    harness.drain()
    # Then: the items the dead invocation wrote are found done, not written again
    outcome = harness.verify("writeback_crash_after_put")
    assert outcome.written == ITEMS
    assert written_before
    assert outcome.skipped_as_done >= len(written_before)
    assert harness.counts["claims_expired"] >= len(written_before)


def test_writeback_killed_invocation_leaves_its_lease_and_the_next_runs_wait_for_it(
    harness: WritebackHarness,
) -> None:
    # Given: an invocation was killed (Lambda timeout) holding the lease and a claimed batch
    harness.queue_items(ITEMS)
    now = datetime.now(UTC)
    with session_scope(harness.engine) as session:
        session.add(
            JobState(job_name=WRITEBACK_JOB_NAME, lease_owner="killed", lease_expires_at=now + timedelta(minutes=16))
        )
        session.flush()
        queue.claim_batch(session, owner="killed", now=now, limit=10)
    harness.extra_faults = 1
    # When: the next scheduled run comes while the lease still holds
    waiting = harness.run()
    # Then it exits cleanly, and after the lease and the claims lapse the queue drains
    assert waiting["outcome"] == "skipped"
    assert harness.lease_holder() == "killed"
    harness.advance(17 * 60)
    harness.drain()
    outcome = harness.verify("writeback_killed_invocation")
    assert harness.counts["claims_expired"] == 10
    assert outcome.dead_lettered == 0


def test_writeback_two_scheduled_invocations_at_once_write_each_item_once(harness: WritebackHarness) -> None:
    # Given: two invocations start at the same moment (a retried schedule delivery)
    harness.queue_items(ITEMS)
    harness.simulator.set_faults(latency_ms=10)
    start = threading.Barrier(2)
    results: list[dict[str, Any]] = []

    def invoke() -> None:
        start.wait()
        results.append(sierra_writeback.run(harness.settings, event=scheduler_event()))

    threads = [threading.Thread(target=invoke) for _ in range(2)]
    # When
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    harness.runs += 2
    harness.extra_faults = 1
    for result in results:
        harness.tally(result)
    # Then: one ran, the other stepped aside
    assert sorted(str(result["outcome"]) for result in results) == ["skipped", "succeeded"]
    outcome = harness.verify("writeback_overlapping_invocations")
    assert outcome.written == ITEMS


def test_writeback_workers_without_the_lease_still_never_share_an_item(harness: WritebackHarness) -> None:
    # Given: two workers on the queue at once with no lease between them (a lease that expired mid-run)
    harness.queue_items(ITEMS)
    harness.simulator.set_faults(latency_ms=5)
    start = threading.Barrier(2)
    counts: list[int] = []

    def work(owner: str) -> None:
        client = harness.client()
        start.wait()
        done = writeback_service.write_back_queue(
            harness.engine, client, settings=harness.settings, owner=owner, stop_at=float("inf")
        )
        counts.append(done.written)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
    # When
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    harness.runs += 2
    harness.extra_faults = 1
    # Then: SKIP LOCKED claims split the queue between them
    outcome = harness.verify("writeback_concurrent_workers")
    assert sum(counts) == ITEMS
    assert all(count > 0 for count in counts)
    assert outcome.duplicates == 0


def test_writeback_permanent_refusals_are_dead_lettered_with_sierra_error(harness: WritebackHarness) -> None:
    # Given: Sierra refuses the inventory date on eight items (400, code 105) and their call number on four more
    # (items whose call number does not carry the new classification already)
    ids = harness.queue_items(ITEMS)
    relabelled = [
        item_id
        for item_id in ids
        if not (harness.simulator.store.get_item_raw(item_id) or {})
        .get("callNumber", "|a")
        .startswith(("|a" + CLASSIFICATION, CLASSIFICATION))
    ]
    refused_date, refused_call_number = relabelled[:8], relabelled[8:12]
    harness.simulator.set_faults(refused_put_keys={"inventoryDate": refused_date, "varFields": refused_call_number})
    # When
    harness.drain()
    # Then: those twelve wait for an operator with Sierra's error and the part it refused; the eight whose
    # inventory date was refused still got their call number; the rest are written once
    outcome = harness.verify("writeback_permanent_refusals")
    assert outcome.dead_lettered == 12
    with Session(harness.engine) as session:
        dead = {
            entry.item_record_id: entry
            for entry in session.scalars(select(WritebackEntry).where(WritebackEntry.status == WritebackStatus.DEAD))
        }
    assert set(dead) == {*refused_date, *refused_call_number}
    assert {entry.last_error_code for entry in dead.values()} == {105}
    assert all(dead[item_id].refused_parts == ["inventory_date"] for item_id in refused_date)
    assert all(dead[item_id].written_parts == ["call_number", "internal_use"] for item_id in refused_date)
    assert all(dead[item_id].refused_parts == ["call_number"] for item_id in refused_call_number)
    written = harness.simulator.store.put_counts()
    assert all(item_id in written for item_id in refused_date)
    assert not any(item_id in written for item_id in refused_call_number)
    # And an operator's retry writes what is missing once the cause is fixed
    harness.simulator.set_faults(refused_put_keys={})
    with session_scope(harness.engine) as session:
        retried = retry_dead_letters(session, now=datetime.now(UTC), item_record_ids=None)
    assert len(retried.requeued) == 12
    harness.drain()
    after_retry = harness.verify("writeback_dead_letters_retried")
    assert after_retry.dead_lettered == 0
    assert after_retry.written == ITEMS


def test_writeback_prints_during_faulty_runs_lose_no_print_event(harness: WritebackHarness) -> None:
    # Given: a station prints while the writeback runs against a Sierra answering 10 % 5xx, and
    # every print is delivered twice (a station retry with the same Idempotency-Key)
    harness.simulator.set_faults(seed=3, error_rates={500: 0.05, 503: 0.05})
    ids = live_item_ids(harness.simulator, ITEMS)
    with session_scope(harness.engine) as session:
        for item_id in ids:
            make_item(session, item_record_id=item_id, classification=CLASSIFICATION, signum="KIV")
        station, _ = make_client(session, role=ClientRole.PRINTER)
    harness.item_ids.extend(ids)
    printed = threading.Event()

    def print_labels() -> None:
        for item_id in ids:
            for _delivery in range(2):
                with session_scope(harness.engine) as session:
                    client = session.get(Client, station.id)
                    assert client is not None
                    record_print(session, item_id=item_id, client=client, idempotency_key=f"scan-{item_id}")
            time.sleep(0.005)
        printed.set()

    printer = threading.Thread(target=print_labels)
    # When
    printer.start()
    while not printed.is_set():
        harness.run()
        harness.advance(60)
    printer.join()
    harness.drain()
    # Then: one print event per print, every printed item written once
    harness.extra_faults = ITEMS
    outcome = harness.verify("writeback_prints_during_faults")
    assert harness.label_events() == ITEMS
    assert outcome.written == ITEMS
