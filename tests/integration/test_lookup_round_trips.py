"""A barcode look-up is one round trip to PostgreSQL, counted on the wire.

The app runs on its own engine against the run's database (no shared test session). libpq's
protocol trace of every pooled connection counts `ReadyForQuery` messages: one per round trip, be it
a query, a pre-ping, a BEGIN or a COMMIT.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.db import get_engine, reset_engines
from tarroitus.domain import ClientRole
from tarroitus.settings import Settings
from tests.api_helpers import key_header
from tests.factories import make_client, make_item

LOOKUPS = 10


@dataclass
class Station:
    """The app over HTTP with a printer's key, a barcode with an item, and the wire trace of its connections."""

    api: TestClient
    key: str
    barcode: str
    admin_key: str
    printer_id: str
    trace: Path
    backend_pids: list[int]

    def round_trips(self) -> int:
        """Round trips on the app's connections so far."""
        return sum("\tReadyForQuery" in line for line in self.trace.read_text().splitlines() if line.startswith("B"))


@pytest.fixture
def station(committed_db: Engine, settings: Settings, tmp_path: Path) -> Iterator[Station]:
    """The app with its own process-wide engine, its every new connection traced into a file."""
    app_settings = settings.model_copy(
        update={"database_url": SecretStr(committed_db.url.render_as_string(hide_password=False))}
    )
    trace = tmp_path / "wire.trace"
    with trace.open("w") as sink:
        backend_pids: list[int] = []

        def trace_connection(dbapi_connection: Any, _record: Any) -> None:
            backend_pids.append(dbapi_connection.info.backend_pid)
            dbapi_connection.pgconn.trace(sink.fileno())
            dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

        event.listen(get_engine(app_settings, pre_ping=False), "connect", trace_connection)
        with Session(committed_db) as session, session.begin():
            printer, key = make_client(session, role=ClientRole.PRINTER)
            _, admin_key = make_client(session, role=ClientRole.ADMIN)
            barcode = str(make_item(session).barcode)
            printer_id = str(printer.id)
        with TestClient(create_app(app_settings), raise_server_exceptions=False) as api:
            yield Station(api, key, barcode, admin_key, printer_id, trace, backend_pids)
        reset_engines()


def test_a_look_up_is_one_round_trip_on_both_protocols(station: Station) -> None:
    # Given: a warm connection (its first use also reads the server's settings)
    assert station.api.get(f"/api/v1/items/{station.barcode}", headers=key_header(station.key)).status_code == 200
    before = station.round_trips()
    # When
    statuses = [
        station.api.get(f"/api/v1/items/{station.barcode}", headers=key_header(station.key)).status_code
        for _ in range(LOOKUPS)
    ] + [
        station.api.get(f"/itemdata/{station.barcode}", headers={"x-api-key": station.key}).status_code
        for _ in range(LOOKUPS)
    ]
    # Then: no pre-ping, no BEGIN, no COMMIT, no second query
    assert statuses == [200] * 2 * LOOKUPS
    assert station.round_trips() - before == 2 * LOOKUPS


def test_refusals_and_not_found_are_one_round_trip_too(station: Station) -> None:
    # Given
    station.api.get(f"/api/v1/items/{station.barcode}", headers=key_header(station.key))
    before = station.round_trips()
    # When
    unknown_key = station.api.get(f"/api/v1/items/{station.barcode}", headers=key_header("trt_unknown"))
    unknown_barcode = station.api.get("/itemdata/31234999999999", headers={"x-api-key": station.key})
    # Then
    assert (unknown_key.status_code, unknown_barcode.status_code) == (401, 404)
    assert station.round_trips() - before == 2


def test_a_revoked_key_fails_on_the_very_next_look_up(station: Station) -> None:
    # Given: a station that has just looked an item up
    path = f"/api/v1/items/{station.barcode}"
    assert station.api.get(path, headers=key_header(station.key)).status_code == 200
    # When: an administrator revokes its key
    revoked = station.api.post(f"/api/v1/clients/{station.printer_id}/revoke", headers=key_header(station.admin_key))
    # Then
    assert revoked.status_code == 200, revoked.text
    assert station.api.get(path, headers=key_header(station.key)).status_code == 401
    assert station.api.get(f"/itemdata/{station.barcode}", headers={"x-api-key": station.key}).status_code == 403


def test_a_look_up_rides_out_connections_the_server_dropped(station: Station, committed_db: Engine) -> None:
    # Given: the app's pooled connections, which the server has since closed (a restart, a failover)
    path = f"/api/v1/items/{station.barcode}"
    assert station.api.get(path, headers=key_header(station.key)).status_code == 200
    with committed_db.connect() as connection:
        dropped = connection.execute(
            text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest(:pids) AS pid"),
            {"pids": station.backend_pids},
        ).scalar_one()
    dropped_pids = list(station.backend_pids)
    assert dropped == len(dropped_pids) >= 1
    # When
    statuses = [station.api.get(path, headers=key_header(station.key)).status_code for _ in range(3)]
    # Then: the dead connection was replaced and the statement run again, unseen by the station
    assert statuses == [200, 200, 200]
    assert len(station.backend_pids) > len(dropped_pids)
