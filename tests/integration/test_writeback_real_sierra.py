"""The writeback against a simulator that behaves like a real Sierra v6 server.

Per-fieldTag replacement of varFields, 400 on an empty subfield list, call numbers under 090/092 and as plain
text, parts refused one by one, OAuth-shaped 401s, a concurrency cap and maintenance windows of 503s.
"""

import copy
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import AnyHttpUrl, SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.domain import WritebackStatus
from tarroitus.jobs.sierra_connection import build_writeback_client
from tarroitus.jobs.sierra_writeback import run_writeback
from tarroitus.models import Item, JobRun, WritebackAttempt, WritebackEntry
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.writeback.queue import retry_dead_letters, write_back_queue
from tarroitus.settings import Settings
from tests.sierra_fixtures import RunningSimulator

CLASSIFICATION = "678.90"
#: A seeded item (seed 1) whose call number sits in c/090 and that carries a note with an empty subfield list.
ITEM_WITH_090_AND_EMPTY_NOTE = 1_000_373


def on_simulator(settings: Settings, simulator: RunningSimulator, **overrides: Any) -> Settings:
    """Settings pointing at the simulator, with immediate retries."""
    values: dict[str, Any] = {
        "sierra_api_endpoint": AnyHttpUrl(simulator.base_url),
        "sierra_api_client_key": SecretStr(simulator.config.client_key),
        "sierra_api_client_secret": SecretStr(simulator.config.client_secret),
        "sierra_api_client_timeout_seconds": 5.0,
        "sierra_update_backoff_base_seconds": 0.0,
        **overrides,
    }
    return settings.model_copy(update=values)


def queue_items(engine: Engine, ids: list[int], classification: str = CLASSIFICATION) -> None:
    with session_scope(engine) as session:
        session.add_all(Item(item_record_id=item_id) for item_id in ids)
        session.flush()
        for item_id in ids:
            queue.enqueue_item(session, item_record_id=item_id, classification=classification)


def write(engine: Engine, options: Settings, owner: str = "run-a") -> Any:
    """One pass over the queue with the client the job builds from these settings."""
    with build_writeback_client(options) as sierra:
        return write_back_queue(engine, sierra, settings=options, owner=owner, stop_at=time.monotonic() + 60)


def live_items(simulator: RunningSimulator, count: int = 2000) -> dict[int, dict[str, Any]]:
    found = {}
    for item_id in range(simulator.store.first_item_id, simulator.store.first_item_id + count):
        raw = simulator.store.get_item_raw(item_id)
        if raw is not None and not raw.get("deleted"):
            found[item_id] = raw
    return found


def call_fields(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return [field for field in raw["varFields"] if field["fieldTag"] == "c"]


def entry(engine: Engine, item_id: int) -> WritebackEntry:
    with Session(engine) as session:
        found = session.get(WritebackEntry, item_id)
        assert found is not None
        return found


def attempts(engine: Engine, item_id: int) -> list[WritebackAttempt]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(WritebackAttempt).where(WritebackAttempt.item_record_id == item_id).order_by(WritebackAttempt.id)
            )
        )


def puts_of(simulator: RunningSimulator, item_id: int) -> list[tuple[int, Any]]:
    return [(put.status, put.body) for put in simulator.store.put_log if put.item_id == item_id]


def test_only_the_call_number_group_is_put_and_the_other_fields_stay(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given an item with its call number in c/090 and a note field whose subfield list is empty
    item_id = ITEM_WITH_090_AND_EMPTY_NOTE
    before = sierra_simulator.store.get_item_raw(item_id)
    assert before is not None
    assert [field.get("marcTag") for field in call_fields(before)] == ["090"]
    assert any(field.get("subfields") == [] for field in before["varFields"])
    queue_items(committed_db, [item_id])
    # When
    counts = write(committed_db, on_simulator(settings, sierra_simulator))
    # Then one PUT carried the c group alone, the inventory date and the flag
    assert counts.written == 1
    ((status, body),) = puts_of(sierra_simulator, item_id)
    assert status == 204
    assert set(body) == {"varFields", "inventoryDate", "fixedFields"}
    old_text = before["varFields"][1]["subfields"][0]["content"].split(" ", 1)[1]
    assert body["varFields"] == [
        {
            "fieldTag": "c",
            "marcTag": "090",
            "ind1": " ",
            "ind2": " ",
            "subfields": [{"tag": "a", "content": f"{CLASSIFICATION} {old_text}"}],
        }
    ]
    assert body["fixedFields"] == {"93": {"label": "IUSE3", "value": "1"}}
    # And the item kept its barcode and its empty note, and has exactly one call number
    after = sierra_simulator.store.get_item_raw(item_id)
    assert after is not None
    assert after["varFields"] == [before["varFields"][0], body["varFields"][0], *before["varFields"][2:]]
    assert len(call_fields(after)) == 1
    assert after["callNumber"] == f"|a{CLASSIFICATION} {old_text}"


def test_call_numbers_under_any_marc_tag_or_as_plain_text_are_replaced_in_place(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given seeded items with their call number under 090, 092, 099, as plain text, and with none
    items = live_items(sierra_simulator)

    def first(kind: str) -> int:
        for item_id, raw in items.items():
            fields = call_fields(raw)
            tag = "none" if not fields else fields[0].get("marcTag", "plain")
            if tag == kind:
                return item_id
        raise AssertionError(f"no seeded item with {kind}")

    chosen = {kind: first(kind) for kind in ("090", "092", "099", "plain", "none")}
    before = {item_id: copy.deepcopy(items[item_id]) for item_id in chosen.values()}
    queue_items(committed_db, list(chosen.values()))
    # When, in a library whose new call-number fields are 092
    counts = write(committed_db, on_simulator(settings, sierra_simulator, sierra_update_call_number_marc_tag="092"))
    # Then each item has exactly one call number, where and as it was, with its text after the number kept
    assert counts.written == 5
    for kind, item_id in chosen.items():
        after = sierra_simulator.store.get_item_raw(item_id)
        assert after is not None
        (field,) = call_fields(after)
        if kind == "none":
            assert field["marcTag"] == "092"
            assert field["subfields"] == [{"tag": "a", "content": CLASSIFICATION}]
            continue
        (old,) = call_fields(before[item_id])
        assert field.get("marcTag") == old.get("marcTag")
        old_text = old["subfields"][0]["content"] if kind != "plain" else old["content"]
        new_text = field["subfields"][0]["content"] if kind != "plain" else field["content"]
        assert new_text == f"{CLASSIFICATION} {old_text.split(' ', 1)[1]}"
        expected_call_number = new_text if kind == "plain" else f"|a{new_text}"
        assert after["callNumber"] == expected_call_number


def test_a_refused_inventory_date_does_not_cost_the_call_number(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given Sierra refusing the inventory date on one item of five
    ids = list(live_items(sierra_simulator, 10))[:5]
    refused_item = ids[2]
    before = sierra_simulator.store.get_item_raw(refused_item)
    assert before is not None
    queue_items(committed_db, ids)
    sierra_simulator.set_faults(refused_put_keys={"inventoryDate": [refused_item]})
    options = on_simulator(settings, sierra_simulator)
    # When
    counts = write(committed_db, options)
    # Then the call number and the flag landed; only the inventory date waits, dead-lettered with Sierra's error
    assert (counts.written, counts.dead_lettered, counts.retried) == (4, 1, 0)
    assert [(status, sorted(body)) for status, body in puts_of(sierra_simulator, refused_item)] == [
        (400, ["fixedFields", "inventoryDate", "varFields"]),
        (204, ["varFields"]),
        (400, ["inventoryDate"]),
        (204, ["fixedFields"]),
    ]
    after = sierra_simulator.store.get_item_raw(refused_item)
    assert after is not None
    assert after["callNumber"].startswith(f"|a{CLASSIFICATION}")
    assert after["fixedFields"]["93"]["value"] == "1"
    assert after["fixedFields"].get("69") == before["fixedFields"].get("69")
    dead = entry(committed_db, refused_item)
    assert dead.status == WritebackStatus.DEAD
    assert (dead.written_parts, dead.refused_parts, dead.last_error_code) == (
        ["call_number", "internal_use"],
        ["inventory_date"],
        105,
    )
    assert dead.last_error is not None
    assert dead.last_error.startswith("Sierra refused the inventory date: ")
    assert "HTTP 400" in dead.last_error
    (attempt,) = attempts(committed_db, refused_item)
    assert (attempt.outcome, attempt.http_status, attempt.written_parts, attempt.refused_parts) == (
        "dead_lettered",
        400,
        ["call_number", "internal_use"],
        ["inventory_date"],
    )
    # And once the cause is fixed, an operator's retry writes only what is missing
    sierra_simulator.set_faults(refused_put_keys={})
    with session_scope(committed_db) as session:
        retry_dead_letters(session, now=datetime.now(UTC), item_record_ids=[refused_item])
    assert write(committed_db, options, owner="run-b").written == 1
    assert sorted(puts_of(sierra_simulator, refused_item)[-1][1]) == ["inventoryDate"]
    done = entry(committed_db, refused_item)
    assert (done.status, done.written_parts, done.refused_parts) == (
        WritebackStatus.DONE,
        ["call_number", "inventory_date", "internal_use"],
        [],
    )


def test_a_refused_call_number_writes_neither_stamp(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given Sierra refusing any varFields on the item
    (item_id,) = list(live_items(sierra_simulator, 3))[:1]
    before = sierra_simulator.store.get_item_raw(item_id)
    queue_items(committed_db, [item_id])
    sierra_simulator.set_faults(refused_put_keys={"varFields": None})
    # When
    counts = write(committed_db, on_simulator(settings, sierra_simulator))
    # Then the call number alone was tried once more, then nothing else: the item is as it was
    assert counts.dead_lettered == 1
    assert [status for status, _ in puts_of(sierra_simulator, item_id)] == [400, 400]
    assert sierra_simulator.store.get_item_raw(item_id) == before
    dead = entry(committed_db, item_id)
    assert (dead.written_parts, dead.refused_parts) == ([], ["call_number"])


def test_a_401_without_a_sierra_code_mid_run_is_recovered(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given a gateway answering the first item request 401 OAuth-shaped, without a Sierra code
    ids = list(live_items(sierra_simulator, 10))[:6]
    queue_items(committed_db, ids)
    sierra_simulator.set_faults(fail_next=[401], unauthorized_body="oauth", path_prefix="/items")
    options = on_simulator(settings, sierra_simulator)
    # When
    with build_writeback_client(options) as sierra:
        counts = write_back_queue(committed_db, sierra, settings=options, owner="run-a", stop_at=time.monotonic() + 60)
        tokens = sierra.tokens_fetched
    # Then the client took a new token and nothing failed
    assert (counts.written, counts.retried, counts.dead_lettered) == (6, 0, 0)
    assert tokens == 2


def test_writes_default_to_two_requests_at_once(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given 30 queued items, a slow Sierra and the default settings (a pool of 8 connections)
    ids = list(live_items(sierra_simulator, 40))[:30]
    queue_items(committed_db, ids)
    sierra_simulator.set_faults(latency_ms=15)
    options = on_simulator(settings, sierra_simulator)
    assert (options.sierra_update_concurrency, options.sierra_api_client_pool_size) == (2, 8)
    # When
    counts = write(committed_db, options)
    # Then Sierra never saw more than two requests at a time
    assert counts.written == 30
    assert sierra_simulator.stats()["peak_in_flight"] == 2


def test_strain_halves_the_concurrency_of_writes(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given four concurrent writes allowed, and Sierra answering some item requests 503
    ids = list(live_items(sierra_simulator, 60))[:40]
    queue_items(committed_db, ids)
    sierra_simulator.set_faults(latency_ms=5, error_rates={503: 0.15}, seed=3, path_prefix="/items")
    options = on_simulator(settings, sierra_simulator, sierra_update_concurrency=4)
    # When
    with build_writeback_client(options) as sierra:
        counts = write_back_queue(committed_db, sierra, settings=options, owner="run-a", stop_at=time.monotonic() + 60)
        lowest = sierra.concurrency.lowest if sierra.concurrency else None
    # Then the cap came down under strain, and every item was still written
    assert counts.written == 40
    assert lowest is not None and lowest <= 2


def test_a_maintenance_window_stops_the_run_without_spending_attempts(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given Sierra in a maintenance window (503, code 117, on every request)
    ids = list(live_items(sierra_simulator, 20))[:12]
    queue_items(committed_db, ids)
    sierra_simulator.set_faults(maintenance=True)
    options = on_simulator(settings, sierra_simulator, sierra_api_maintenance_threshold=4)
    # When the scheduled run comes
    with build_writeback_client(options) as sierra:
        paused = run_writeback(committed_db, sierra, settings=options, stop_at=time.monotonic() + 60, lease_seconds=120)
    # Then it stopped after four 503s in a row (one more from the second worker already asking), and every
    # item waits in the queue with no attempt spent
    assert paused["outcome"] == "paused"
    assert (paused["paused"], paused["written"], paused["retried"], paused["dead_lettered"]) == (1, 0, 0, 0)
    answers = sierra_simulator.stats()["by_status"]
    assert set(answers) == {"503"}
    assert 4 <= answers["503"] <= 4 + options.sierra_update_concurrency - 1
    with Session(committed_db) as session:
        rows = session.scalars(select(WritebackEntry)).all()
        assert session.scalars(select(WritebackAttempt)).all() == []
        (run,) = session.scalars(select(JobRun)).all()
    assert {(row.status, row.attempts, row.claimed_by) for row in rows} == {(WritebackStatus.QUEUED, 0, None)}
    assert run.outcome == "paused"
    # And when the window ends, the next run writes everything
    sierra_simulator.set_faults(maintenance=False)
    with build_writeback_client(options) as sierra:
        resumed = run_writeback(
            committed_db, sierra, settings=options, stop_at=time.monotonic() + 60, lease_seconds=120
        )
    assert (resumed["outcome"], resumed["written"]) == ("succeeded", 12)


def test_the_internal_use_field_can_be_left_alone(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given items whose field 93 counts internal uses, and the policy to leave it alone
    ids = list(live_items(sierra_simulator, 10))[:3]
    for item_id in ids:
        raw = sierra_simulator.store.get_item_raw(item_id)
        assert raw is not None
        sierra_simulator.store.edit_item(
            item_id, fixedFields={**raw["fixedFields"], "93": {"label": "INTL USE", "value": "3"}}
        )
    queue_items(committed_db, ids)
    # When
    counts = write(committed_db, on_simulator(settings, sierra_simulator, sierra_update_set_iuse3=False))
    # Then the call number and the inventory date were written, the counter was not touched
    assert counts.written == 3
    for item_id in ids:
        ((_, body),) = puts_of(sierra_simulator, item_id)
        assert set(body) == {"varFields", "inventoryDate"}
        after = sierra_simulator.store.get_item_raw(item_id)
        assert after is not None
        assert after["fixedFields"]["93"] == {"label": "INTL USE", "value": "3"}
        assert entry(committed_db, item_id).written_parts == ["call_number", "inventory_date"]


def test_the_internal_use_value_is_a_setting(
    committed_db: Engine, settings: Settings, sierra_simulator: RunningSimulator
) -> None:
    # Given / When the flag is to be set to 2
    ids = list(live_items(sierra_simulator, 10))[:2]
    queue_items(committed_db, ids)
    write(committed_db, on_simulator(settings, sierra_simulator, sierra_update_iuse3_value="2"))
    # Then
    for item_id in ids:
        after = sierra_simulator.store.get_item_raw(item_id)
        assert after is not None
        assert after["fixedFields"]["93"] == {"label": "IUSE3", "value": "2"}


def test_the_inventory_date_field_that_shows_a_write_is_a_setting(
    committed_db: Engine, settings: Settings, sierra_simulator_factory: Any
) -> None:
    # Given a Sierra that mirrors inventoryDate in fixed field 63, and items written once
    simulator: RunningSimulator = sierra_simulator_factory(item_count=30, inventory_date_field="63")
    ids = list(live_items(simulator, 30))[:5]
    queue_items(committed_db, ids)
    options = on_simulator(settings, simulator, sierra_update_invda_field_number=63)
    assert write(committed_db, options).written == 5
    # When a reprint of the same moment queues them again (a write landed before its outcome was stored)
    with session_scope(committed_db) as session:
        session.execute(
            WritebackEntry.__table__.update().values(status=WritebackStatus.QUEUED, completed_at=None)  # type: ignore[attr-defined]
        )
    again = write(committed_db, options, owner="run-b")
    # Then field 63 shows the inventory date is there: nothing is written twice
    assert (again.written, again.skipped_as_done) == (0, 5)
    assert simulator.store.put_counts() == dict.fromkeys(ids, 1)
    # While reading the wrong field (69) would have stamped the date again
    with session_scope(committed_db) as session:
        session.execute(
            WritebackEntry.__table__.update().values(status=WritebackStatus.QUEUED, completed_at=None)  # type: ignore[attr-defined]
        )
    wrong = write(committed_db, on_simulator(settings, simulator), owner="run-c")
    assert wrong.written == 5
    assert all(sorted(puts_of(simulator, item_id)[-1][1]) == ["inventoryDate"] for item_id in ids)
