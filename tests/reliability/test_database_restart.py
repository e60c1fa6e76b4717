"""A database restart mid-run: the sync resumes consistently, prints retried across it lose and duplicate nothing.

Each test runs its own PostgreSQL server in a temporary directory, since restarting the session's
server would break every other test.
"""

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.db import reset_engines
from tarroitus.domain import ClientRole
from tarroitus.models import LabelEvent, WritebackEntry
from tarroitus.repositories.transactions import session_scope
from tarroitus.settings import Settings
from tests.api_server import serve_app
from tests.factories import make_client, make_item
from tests.reliability.ledger import LEDGER, ScenarioOutcome
from tests.reliability.private_db import PrivateServer, private_server
from tests.reliability.sync_harness import SyncScenario
from tests.sierra_fixtures import RunningSimulator
from tests.sync_helpers import PageBudget

PRINTS = 30
#: Stations printing at once, prints each, and database stops under them (each stop risks a lost 201 on a
#: server that answers before it commits: one in a few hundred prints in flight).
STATIONS = 8
PRINTS_PER_STATION = 60
STOPS = 2
DATABASE_DOWN = "The database is not reachable; retry shortly"
#: How long the server stays down: an RDS reboot without failover takes longer, but the behaviour is the same.
DOWNTIME_SECONDS = 1.0


def restart_after(database: PrivateServer, delay_seconds: float) -> None:
    """Stop the server after `delay_seconds`, keep it down for DOWNTIME_SECONDS, start it again."""
    time.sleep(delay_seconds)
    database.stop()
    time.sleep(DOWNTIME_SECONDS)
    database.start()


@pytest.mark.slow
def test_sync_database_restart_mid_pass_resumes_consistently(tmp_path: Path, simulator: RunningSimulator) -> None:
    # Given: a database server of this test's own, restarted (fast shutdown, down for a second) mid-pass
    with private_server(tmp_path / "pgdata") as database:
        simulator.set_faults(latency_ms=15)
        restarter = threading.Thread(target=restart_after, args=(database, 0.0))

        def restart_during_page_3(page: int) -> None:
            if page == 3:
                restarter.start()

        scenario = SyncScenario(database.engine, simulator, simulator.client())
        # When: the run in flight fails (or rides it out), and the following runs carry on
        scenario.run_once(PageBudget(on_page=restart_during_page_3))
        restarter.join()
        scenario.extra_faults = database.restarts
        scenario.until_complete()
        # Then
        outcome = scenario.verify("sync_database_restart")
        assert database.restarts == 1
        assert outcome.lost == 0


@pytest.fixture
def fresh_engines() -> Iterator[None]:
    """Drop the engines the app cached for the private server's URL once the test is done."""
    yield
    reset_engines()


@pytest.mark.slow
@pytest.mark.usefixtures("fresh_engines")
def test_prints_retried_across_a_database_restart_are_recorded_exactly_once(tmp_path: Path, settings: Settings) -> None:
    # Given: a station posting labels (each retried with its Idempotency-Key until answered) to an API
    # whose database restarts in the middle
    with private_server(tmp_path / "pgdata") as database:
        with session_scope(database.engine) as session:
            item_ids = [make_item(session).item_record_id for _ in range(PRINTS)]
            _, printer_key = make_client(session, role=ClientRole.PRINTER)
        api = TestClient(
            create_app(settings.model_copy(update={"database_url": SecretStr(database.url)})),
            raise_server_exceptions=False,
            headers={"X-API-Key": printer_key},
        )
        refusals: list[int] = []

        def post_with_retries(item_id: int) -> int:
            for _ in range(100):
                response = api.post(f"/api/v1/items/{item_id}/labels", headers={"Idempotency-Key": f"scan-{item_id}"})
                if response.status_code in (200, 201):
                    return response.status_code
                refusals.append(response.status_code)
                assert response.headers.get("Retry-After"), response.text
                time.sleep(0.05)
            raise AssertionError(f"item {item_id} was never recorded")

        # When
        restarter = threading.Thread(target=restart_after, args=(database, 0.3))
        restarter.start()
        answers = []
        for item_id in item_ids:
            answers.append(post_with_retries(item_id))
            time.sleep(0.02)
        restarter.join()
        # Then: every print is on record once and queued once; the outage answered 503, never 500
        with Session(database.engine) as session:
            events = session.scalars(select(LabelEvent.item_record_id)).all()
            queued = session.scalars(select(WritebackEntry.item_record_id)).all()
        outcome = ScenarioOutcome(
            name="prints_across_database_restart",
            faults=database.restarts,
            items=PRINTS,
            written=len(set(events)),
            duplicates=len(events) - len(set(events)),
            lost=len(set(item_ids) - set(events)),
            extra={"refused_503": len(refusals)},
        )
        LEDGER.record(outcome)
        assert database.restarts == 1
        assert refusals and set(refusals) == {503}
        assert sorted(events) == sorted(item_ids)
        assert sorted(queued) == sorted(item_ids)
        assert set(answers) <= {200, 201}


@pytest.mark.slow
@pytest.mark.usefixtures("fresh_engines")
def test_concurrent_prints_across_a_database_stop_acknowledge_only_stored_events(
    tmp_path: Path, settings: Settings
) -> None:
    # Given: eight stations printing at once, each item once and without retries, through a real HTTP
    # server whose database stops (fast shutdown, every connection cut) in the middle and starts again
    with private_server(tmp_path / "pgdata") as database:
        with session_scope(database.engine) as session:
            item_ids = [make_item(session).item_record_id for _ in range(STATIONS * PRINTS_PER_STATION)]
            keys = [make_client(session, role=ClientRole.PRINTER)[1] for _ in range(STATIONS)]
        app = create_app(settings.model_copy(update={"database_url": SecretStr(database.url)}))
        acknowledged: list[int] = []
        refusals: Counter[str] = Counter()

        def station(index: int) -> None:
            with httpx.Client(base_url=base_url, headers={"X-API-Key": keys[index]}, timeout=60) as http:
                for item_id in item_ids[index::STATIONS]:
                    try:
                        response = http.post(f"/api/v1/items/{item_id}/labels")
                    except httpx.TransportError:
                        refusals["no_answer"] += 1
                        continue
                    if response.status_code == 201:
                        acknowledged.append(item_id)
                    else:
                        refusals[str(response.status_code)] += 1

        # When
        with serve_app(app) as base_url:
            stations = [threading.Thread(target=station, args=(index,)) for index in range(STATIONS)]
            for thread in stations:
                thread.start()
            for _ in range(STOPS):
                restart_after(database, 0.5)
            for thread in stations:
                thread.join()
        # Then: every 201 is a stored event; what could not be stored was refused with 503
        with Session(database.engine) as session:
            stored = set(session.scalars(select(LabelEvent.item_record_id)).all())
        lost = [item_id for item_id in acknowledged if item_id not in stored]
        LEDGER.record(
            ScenarioOutcome(
                name="concurrent_prints_database_stop",
                faults=database.restarts,
                items=len(item_ids),
                written=len(stored),
                acknowledged_lost=len(lost),
                extra={"acknowledged": len(acknowledged), **{f"refused_{code}": n for code, n in refusals.items()}},
            )
        )
        assert database.restarts == STOPS
        assert refusals["503"] > 0, "the prints never met the stopped database"
        assert lost == []
        assert set(refusals) == {"503"}
        assert stored == set(acknowledged)


@pytest.mark.usefixtures("fresh_engines")
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/items", {"error": {"code": "unavailable", "message": DATABASE_DOWN, "details": []}}),
        ("GET", "/itemdata/31234000000001", {"detail": DATABASE_DOWN}),
    ],
)
def test_unreachable_database_answers_503_with_retry_after(
    settings: Settings, method: str, path: str, body: dict[str, object]
) -> None:
    # Given: the database does not answer at all
    unreachable = settings.model_copy(
        update={"database_url": None, "db_host": "127.0.0.1", "db_port": 1, "db_password": None}
    )
    client = TestClient(create_app(unreachable), raise_server_exceptions=False)
    # When
    response = client.request(method, path, headers={"X-API-Key": "trt_any"})
    # Then: a retryable answer, not a 500
    assert response.status_code == 503
    assert response.json() == body
    assert int(response.headers["Retry-After"]) >= 1
