"""The writeback against the Sierra simulator: every item written exactly once, field by field, or dead-lettered."""

import copy
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sierra_simulator import ITEM_ID_BASE
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.domain import WritebackStatus
from tarroitus.models import Item, WritebackAttempt, WritebackEntry
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.writeback.call_number import replace_in_marked_text, replace_number_part
from tarroitus.services.writeback.queue import WritebackRunCounts, write_back_queue
from tarroitus.settings import Settings
from tarroitus.sierra import SierraClient
from tests.sierra_fixtures import RunningSimulator, run_simulator

SIMULATED_ITEMS = 1100


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    """A simulator with enough live items for a thousand writebacks."""
    with run_simulator(item_count=SIMULATED_ITEMS) as running:
        yield running


def writeback_settings(settings: Settings, **overrides: Any) -> Settings:
    """Test settings: immediate retries, batches small enough to interleave concurrent runs."""
    values: dict[str, Any] = {
        "sierra_update_backoff_base_seconds": 0.0,
        "sierra_update_batch_size_limit": 100,
        "sierra_api_client_pool_size": 8,
        "sierra_update_concurrency": 8,
        **overrides,
    }
    return settings.model_copy(update=values)


def client_for(simulator: RunningSimulator, options: Settings, **overrides: Any) -> SierraClient:
    """A client with one connection per writeback worker, as the job builds it from the same settings."""
    return simulator.client(pool_size=options.sierra_api_client_pool_size, **overrides)


def live_item_ids(simulator: RunningSimulator, count: int) -> list[int]:
    """The first `count` items of the simulator that are not deleted."""
    ids: list[int] = []
    item_id = ITEM_ID_BASE
    while len(ids) < count:
        raw = simulator.store.get_item_raw(item_id)
        if raw is not None and not raw.get("deleted"):
            ids.append(item_id)
        item_id += 1
    return ids


def classification_for(item_id: int) -> str:
    """A varied YKL-like class per item."""
    return f"{item_id % 97 + 1}.{item_id % 13}"


def queue_items(engine: Engine, ids: list[int]) -> None:
    """The items in the catalogue and labelled: queued for writeback (in bulk; enqueue_item is one by one)."""
    with session_scope(engine) as session:
        session.add_all(Item(item_record_id=item_id) for item_id in ids)
        session.flush()
        session.add_all(
            WritebackEntry(
                item_record_id=item_id, status=WritebackStatus.QUEUED, classification=classification_for(item_id)
            )
            for item_id in ids
        )


def snapshot(simulator: RunningSimulator, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The simulator's records of these items."""
    records = {item_id: simulator.store.get_item_raw(item_id) for item_id in ids}
    return {item_id: record for item_id, record in records.items() if record is not None}


def entries(engine: Engine) -> dict[int, WritebackEntry]:
    with Session(engine) as session:
        return {entry.item_record_id: entry for entry in session.scalars(select(WritebackEntry))}


def attempts_by_item(engine: Engine) -> dict[int, list[WritebackAttempt]]:
    found: dict[int, list[WritebackAttempt]] = {}
    with Session(engine) as session:
        for attempt in session.scalars(select(WritebackAttempt).order_by(WritebackAttempt.id)):
            found.setdefault(attempt.item_record_id, []).append(attempt)
    return found


def expected_var_fields(before: dict[str, Any], classification: str) -> list[dict[str, Any]]:
    """The item's varFields with its call-number field rewritten in place, whatever its marcTag or form (or
    a c/099 field appended when it had none)."""
    fields = copy.deepcopy(before.get("varFields", []))
    for field in fields:
        if field.get("fieldTag") != "c":
            continue
        if "subfields" in field:
            subfield = next(sub for sub in field["subfields"] if sub["tag"] == "a")
            subfield["content"] = replace_number_part(subfield["content"], classification)
        else:
            field["content"] = replace_in_marked_text(field["content"], classification)
        return fields
    fields.append(
        {
            "fieldTag": "c",
            "marcTag": "099",
            "ind1": " ",
            "ind2": " ",
            "subfields": [{"tag": "a", "content": classification}],
        }
    )
    return fields


def assert_written_exactly(
    before: dict[str, Any],
    after: dict[str, Any],
    classification: str,
    *,
    written_between: tuple[datetime, datetime],
    flag_field: str | None = "93",
    inventory_date: bool = True,
) -> None:
    """Call number, INVDA and the chosen flag changed as specified; every other field as it was."""
    assert after["varFields"] == expected_var_fields(before, classification)
    expected_fixed = dict(before["fixedFields"])
    if flag_field is not None:
        expected_fixed[flag_field] = {"label": before["fixedFields"].get(flag_field, {}).get("label", ""), "value": "1"}
    if inventory_date:
        invda = after["fixedFields"]["69"]
        assert invda["label"] == "INVDA"
        stamped = datetime.strptime(invda["value"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert written_between[0].replace(microsecond=0) <= stamped <= written_between[1]
        expected_fixed["69"] = invda
    assert after["fixedFields"] == expected_fixed
    unchanged = set(before) - {"varFields", "fixedFields", "updatedDate", "callNumber"}
    assert {key: after.get(key) for key in unchanged} == {key: before[key] for key in unchanged}
    assert after["callNumber"].removeprefix("|a").startswith(classification)
    assert after["updatedDate"] > before["updatedDate"]


def test_write_back_queue_writes_a_thousand_items_exactly(
    committed_db: Engine, settings: Settings, simulator: RunningSimulator
) -> None:
    # Given a thousand labelled items
    ids = live_item_ids(simulator, 1000)
    queue_items(committed_db, ids)
    before = snapshot(simulator, ids)
    options = writeback_settings(settings)
    started = datetime.now(UTC)
    # When
    counts = write_back_queue(
        committed_db, client_for(simulator, options), settings=options, owner="run-a", stop_at=time.monotonic() + 240
    )
    # Then every item was written once and only as specified
    finished = datetime.now(UTC)
    after = snapshot(simulator, ids)
    assert (counts.written, counts.skipped_as_done, counts.retried, counts.dead_lettered) == (1000, 0, 0, 0)
    assert simulator.store.put_counts() == dict.fromkeys(ids, 1)
    rows = entries(committed_db)
    for item_id in ids:
        assert_written_exactly(
            before[item_id], after[item_id], classification_for(item_id), written_between=(started, finished)
        )
        row = rows[item_id]
        assert (row.status, row.attempts, row.claimed_by, row.last_error) == (WritebackStatus.DONE, 1, None, None)
        assert row.sierra_updated_at == datetime.fromisoformat(after[item_id]["updatedDate"])
    assert {item_id: [a.outcome for a in found] for item_id, found in attempts_by_item(committed_db).items()} == (
        {item_id: ["written"] for item_id in ids}
    )


def test_write_back_queue_skips_items_sierra_already_has(
    committed_db: Engine, settings: Settings, simulator: RunningSimulator
) -> None:
    # Given items written once, then queued again with the same classification by a reprint of the same moment
    ids = live_item_ids(simulator, 20)
    queue_items(committed_db, ids)
    options = writeback_settings(settings, sierra_update_set_invda=False)
    client = client_for(simulator, options)
    write_back_queue(committed_db, client, settings=options, owner="run-a", stop_at=time.monotonic() + 60)
    with session_scope(committed_db) as session:
        for item_id in ids:
            queue.enqueue_item(session, item_record_id=item_id, classification=classification_for(item_id))
    # When
    counts = write_back_queue(committed_db, client, settings=options, owner="run-b", stop_at=time.monotonic() + 60)
    # Then nothing is PUT again, and the skip is recorded with the updatedDate Sierra has
    assert (counts.written, counts.skipped_as_done) == (0, 20)
    assert simulator.store.put_counts() == dict.fromkeys(ids, 1)
    rows = entries(committed_db)
    after = snapshot(simulator, ids)
    for item_id in ids:
        assert rows[item_id].status == WritebackStatus.DONE
        assert rows[item_id].sierra_updated_at == datetime.fromisoformat(after[item_id]["updatedDate"])
        assert [a.outcome for a in attempts_by_item(committed_db)[item_id]] == ["written", "skipped_as_done"]


def test_two_concurrent_runs_write_each_item_exactly_once(
    committed_db: Engine, settings: Settings, simulator: RunningSimulator
) -> None:
    # Given 400 queued items and two runs with their own clients, started together
    ids = live_item_ids(simulator, 400)
    queue_items(committed_db, ids)
    options = writeback_settings(settings, sierra_update_batch_size_limit=25, sierra_update_concurrency=4)
    simulator.set_faults(latency_ms=2)
    results: dict[str, WritebackRunCounts] = {}
    barrier = threading.Barrier(2)

    def run(owner: str) -> None:
        client = client_for(simulator, options)
        barrier.wait()
        results[owner] = write_back_queue(
            committed_db, client, settings=options, owner=owner, stop_at=time.monotonic() + 120
        )

    threads = [threading.Thread(target=run, args=(owner,)) for owner in ("run-a", "run-b")]
    # When
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    # Then both worked, neither wrote what the other claimed
    assert results["run-a"].written > 0
    assert results["run-b"].written > 0
    assert results["run-a"].written + results["run-b"].written == 400
    assert simulator.store.put_counts() == dict.fromkeys(ids, 1)
    assert {row.status for row in entries(committed_db).values()} == {WritebackStatus.DONE}


def test_faults_and_a_token_expiry_lose_nothing_and_write_nothing_twice(
    committed_db: Engine, settings: Settings, simulator: RunningSimulator
) -> None:
    # Given 300 queued items, Sierra failing 20 % of item requests with 503 or 409, and no client retries
    ids = live_item_ids(simulator, 300)
    queue_items(committed_db, ids)
    before = snapshot(simulator, ids)
    simulator.set_faults(error_rates={503: 0.1, 409: 0.1}, path_prefix="/items", seed=7)
    options = writeback_settings(settings, sierra_update_max_attempts=3, sierra_update_batch_size_limit=50)
    client = client_for(simulator, options, retries=0)
    expiry = threading.Thread(target=expire_tokens_after_puts, args=(simulator, 100), daemon=True)
    expiry.start()
    started = datetime.now(UTC)
    # When
    counts = write_back_queue(committed_db, client, settings=options, owner="run-a", stop_at=time.monotonic() + 240)
    # Then the token was renewed mid-run, and every item is written once or dead-lettered with its error
    finished = datetime.now(UTC)
    expiry.join(timeout=5)
    assert client.tokens_fetched >= 2
    rows = entries(committed_db)
    attempts = attempts_by_item(committed_db)
    after = snapshot(simulator, ids)
    puts = simulator.store.put_counts()
    done = [item_id for item_id in ids if rows[item_id].status == WritebackStatus.DONE]
    dead = [item_id for item_id in ids if rows[item_id].status == WritebackStatus.DEAD]
    assert sorted(done + dead) == sorted(ids)
    assert (counts.written + counts.skipped_as_done, counts.dead_lettered) == (len(done), len(dead))
    assert done and dead
    assert max(puts.values()) == 1
    for item_id in done:
        assert puts[item_id] == 1
        assert_written_exactly(
            before[item_id], after[item_id], classification_for(item_id), written_between=(started, finished)
        )
        assert attempts[item_id][-1].outcome in {"written", "skipped_as_done"}
    for item_id in dead:
        row = rows[item_id]
        if item_id not in puts:
            assert after[item_id] == before[item_id]
        assert row.attempts == 3
        assert row.last_error
        outcomes = [a.outcome for a in attempts[item_id]]
        assert outcomes == ["failed_retrying", "failed_retrying", "dead_lettered"]
        assert (attempts[item_id][-1].sierra_code, attempts[item_id][-1].error) == (row.last_error_code, row.last_error)
        assert {a.http_status for a in attempts[item_id]} <= {409, 503, None}
    assert Counter(a.outcome for found in attempts.values() for a in found)["failed_retrying"] == counts.retried


def expire_tokens_after_puts(simulator: RunningSimulator, puts: int) -> None:
    """Invalidate every issued token once `puts` PUTs have arrived."""
    deadline = time.monotonic() + 60
    while len(simulator.store.put_log) < puts and time.monotonic() < deadline:
        time.sleep(0.002)
    simulator.set_faults(expire_tokens=True)


def test_a_refused_whole_body_is_written_part_by_part(
    committed_db: Engine, settings: Settings, simulator: RunningSimulator
) -> None:
    # Given Sierra answers the first PUT with 400
    ids = live_item_ids(simulator, 10)
    queue_items(committed_db, ids)
    simulator.set_faults(fail_next=[400], methods=["PUT"])
    options = writeback_settings(settings, sierra_update_concurrency=1)
    # When
    counts = write_back_queue(
        committed_db, client_for(simulator, options), settings=options, owner="run-a", stop_at=time.monotonic() + 60
    )
    # Then that item's parts went one at a time, the call number first, and all landed; nothing was retried
    assert (counts.written, counts.dead_lettered, counts.retried) == (10, 0, 0)
    first = ids[0]
    log = [(entry.status, sorted(entry.body)) for entry in simulator.store.put_log if entry.item_id == first]
    assert simulator.faults.injected["400"] == 1  # answered before the store saw it
    assert log == [(204, ["varFields"]), (204, ["inventoryDate"]), (204, ["fixedFields"])]
    assert {row.status for row in entries(committed_db).values()} == {WritebackStatus.DONE}
    (attempt,) = attempts_by_item(committed_db)[first]
    assert (attempt.outcome, attempt.written_parts, attempt.refused_parts) == (
        "written",
        ["call_number", "inventory_date", "internal_use"],
        [],
    )


def test_the_flag_field_number_and_inventory_date_settings_are_honoured(
    committed_db: Engine, settings: Settings
) -> None:
    # Given a library whose flag is fixed field 74, and no inventory date wanted
    with run_simulator(item_count=60, intl_use_label="INTL USE") as simulator:
        check_flag_field_74(committed_db, settings, simulator)


def check_flag_field_74(committed_db: Engine, settings: Settings, simulator: RunningSimulator) -> None:
    ids = live_item_ids(simulator, 30)
    queue_items(committed_db, ids)
    before = snapshot(simulator, ids)
    options = writeback_settings(
        settings, sierra_update_iuse3_field_number=74, sierra_update_set_invda=False, sierra_update_set_iuse3=True
    )
    started = datetime.now(UTC)
    # When
    counts = write_back_queue(
        committed_db, client_for(simulator, options), settings=options, owner="run-a", stop_at=time.monotonic() + 60
    )
    # Then 74 is set with its own label, 93 and INVDA are left alone
    assert counts.written == 30
    after = snapshot(simulator, ids)
    for item_id in ids:
        assert after[item_id]["fixedFields"]["74"] == {"label": "IUSE3", "value": "1"}
        assert after[item_id]["fixedFields"]["93"] == before[item_id]["fixedFields"]["93"]
        assert_written_exactly(
            before[item_id],
            after[item_id],
            classification_for(item_id),
            written_between=(started, datetime.now(UTC)),
            flag_field="74",
            inventory_date=False,
        )


def test_the_time_budget_releases_unstarted_items(
    committed_db: Engine, settings: Settings, simulator: RunningSimulator
) -> None:
    # Given a slow Sierra and a budget far too short for the batch
    ids = live_item_ids(simulator, 100)
    queue_items(committed_db, ids)
    simulator.set_faults(latency_ms=50)
    options = writeback_settings(settings, sierra_update_concurrency=2, sierra_update_batch_size_limit=100)
    # When
    counts = write_back_queue(
        committed_db, client_for(simulator, options), settings=options, owner="run-a", stop_at=time.monotonic() + 0.6
    )
    # Then what started was finished and recorded; the rest is back in the queue, its attempt not counted
    rows = entries(committed_db)
    done = {item_id for item_id, row in rows.items() if row.status == WritebackStatus.DONE}
    queued = {item_id for item_id, row in rows.items() if row.status == WritebackStatus.QUEUED}
    assert 0 < counts.written < 100
    assert (len(done), len(queued), counts.released) == (counts.written, 100 - counts.written, 100 - counts.written)
    assert all(rows[item_id].attempts == 0 and rows[item_id].claimed_by is None for item_id in queued)
    assert set(simulator.store.put_counts()) == done


class LostAnswers(httpx.HTTPTransport):
    """Loses the answer to the first PUT of each item: after Sierra applied it, or before it was sent."""

    def __init__(self, *, applied: bool) -> None:
        super().__init__()
        self.applied = applied
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "PUT":
            return super().handle_request(request)
        with self.lock:
            first = request.url.path not in self.seen
            self.seen.add(request.url.path)
        if not first:
            return super().handle_request(request)
        if self.applied:
            super().handle_request(request).read()
        raise httpx.ReadTimeout("answer lost", request=request)


@pytest.mark.parametrize("applied", [True, False])
def test_a_lost_answer_to_a_put_is_settled_by_reading_the_item(
    committed_db: Engine, settings: Settings, simulator: RunningSimulator, applied: bool
) -> None:
    # Given every first PUT's answer is lost, after Sierra applied it or before it got there
    ids = live_item_ids(simulator, 10)
    queue_items(committed_db, ids)
    options = writeback_settings(settings, sierra_update_concurrency=2)
    client = client_for(simulator, options, transport=LostAnswers(applied=applied))
    # When
    counts = write_back_queue(committed_db, client, settings=options, owner="run-a", stop_at=time.monotonic() + 60)
    # Then each item is written once and the record says what Sierra holds
    assert simulator.store.put_counts() == dict.fromkeys(ids, 1)
    assert {row.status for row in entries(committed_db).values()} == {WritebackStatus.DONE}
    outcomes = {item_id: [a.outcome for a in found] for item_id, found in attempts_by_item(committed_db).items()}
    expected = ["written"] if applied else ["failed_retrying", "written"]
    assert outcomes == dict.fromkeys(ids, expected)
    assert (counts.written, counts.retried) == (10, 0 if applied else 10)


def test_a_failed_attempt_waits_out_its_backoff(
    committed_db: Engine, settings: Settings, simulator: RunningSimulator
) -> None:
    # Given Sierra keeps the record locked for the first PUT, and a 30 s backoff base
    (item_id,) = live_item_ids(simulator, 1)
    queue_items(committed_db, [item_id])
    simulator.set_faults(fail_next=[409], methods=["PUT"])
    options = writeback_settings(settings, sierra_update_backoff_base_seconds=30.0)
    client = client_for(simulator, options, retries=0)
    # When
    failed_at = datetime.now(UTC)
    first = write_back_queue(committed_db, client, settings=options, owner="run-a", stop_at=time.monotonic() + 60)
    second = write_back_queue(committed_db, client, settings=options, owner="run-b", stop_at=time.monotonic() + 60)
    # Then the item waits its 30 s in the queue, with Sierra's error, and is not tried again meanwhile
    row = entries(committed_db)[item_id]
    assert (first.retried, first.written, second.claimed) == (1, 0, 0)
    assert (row.status, row.attempts, row.last_error_code) == (WritebackStatus.QUEUED, 1, 133)
    assert failed_at + timedelta(seconds=30) <= row.next_attempt_at <= datetime.now(UTC) + timedelta(seconds=30)
    assert simulator.store.put_counts() == {}
