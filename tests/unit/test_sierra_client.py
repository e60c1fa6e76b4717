"""SierraClient against the Sierra simulator served on 127.0.0.1 (see tests/sierra_fixtures.py)."""

import logging
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import SecretStr

from tarroitus import keyset
from tarroitus.keyset import KeysetPage
from tarroitus.settings import Settings
from tarroitus.sierra import (
    ITEM_FIELDS,
    SierraAuthError,
    SierraBadRequestError,
    SierraClient,
    SierraConflictError,
    SierraError,
    SierraItem,
    SierraMaintenanceError,
    SierraNotFoundError,
    SierraUnavailableError,
    format_date_range,
    format_datetime,
    format_datetime_range,
    format_id_range,
)
from tarroitus.sierra.errors import error_from_response
from tests import sierra_fixtures
from tests.sierra_fixtures import RecordedSleeps, RunningSimulator

# Bound here so that this module runs on its own; tests/conftest.py may register the same fixtures.
sierra_simulator_factory = sierra_fixtures.sierra_simulator_factory
sierra_simulator_session = sierra_fixtures.sierra_simulator_session
sierra_simulator = sierra_fixtures.sierra_simulator
sierra_client = sierra_fixtures.sierra_client

FIXED_NOW = datetime(2026, 3, 4, 10, 30, 0, tzinfo=UTC)


def _sleeps(client: SierraClient) -> list[float]:
    sleep = client._sleep
    assert isinstance(sleep, RecordedSleeps)
    return sleep.delays


# ----- Formatting -------------------------------------------------------------------------------


def test_format_datetime_range_uses_utc_seconds_and_z() -> None:
    # Given two aware datetimes, one not in UTC and one with fractions
    start = datetime(2026, 1, 1, 2, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    end = datetime(2026, 1, 2, 0, 0, 0, 999_999, tzinfo=UTC)

    # When formatted as a Sierra range
    text = format_datetime_range(start, end)

    # Then it is exactly the SIERRA.md shape
    assert text == "[2026-01-01T00:00:00Z,2026-01-02T00:00:00Z]"


def test_format_datetime_range_open_ends() -> None:
    # Given a range with one open end on each side
    moment = datetime(2026, 1, 1, tzinfo=UTC)

    # When / Then the missing end is left empty
    assert format_datetime_range(moment, None) == "[2026-01-01T00:00:00Z,]"
    assert format_datetime_range(None, moment) == "[,2026-01-01T00:00:00Z]"


def test_format_datetime_refuses_naive_datetimes() -> None:
    # Given a datetime without a time zone
    naive = datetime(2026, 1, 1)

    # When / Then formatting refuses to guess
    with pytest.raises(ValueError, match="timezone-aware"):
        format_datetime(naive)


def test_format_date_range_is_day_granularity() -> None:
    # Given a date and an aware datetime late in the day in Helsinki (already the next day in UTC? no: earlier)
    helsinki_evening = datetime(2026, 1, 2, 23, 30, tzinfo=timezone(timedelta(hours=2)))

    # When formatted as a deletedDate range
    text = format_date_range(date(2026, 1, 1), helsinki_evening)

    # Then both ends are UTC days
    assert text == "[2026-01-01,2026-01-02]"


def test_format_id_range_open_and_closed() -> None:
    # Given / When / Then
    assert format_id_range(1000000) == "[1000000,]"
    assert format_id_range(1000000, 1000999) == "[1000000,1000999]"


# ----- Error bodies -----------------------------------------------------------------------------


def test_error_from_response_parses_sierra_body() -> None:
    # Given Sierra's error body for a missing record
    body = b'{"code": 107, "specificCode": 0, "httpStatus": 404, "name": "Record not found", "description": "x"}'

    # When it becomes an exception
    error = error_from_response(404, body, method="GET", path="/items/1")

    # Then it is typed and carries every field
    assert isinstance(error, SierraNotFoundError)
    assert (error.http_status, error.code, error.specific_code, error.name, error.description) == (
        404,
        107,
        0,
        "Record not found",
        "x",
    )
    assert error.to_dict() == {
        "code": 107,
        "specificCode": 0,
        "httpStatus": 404,
        "name": "Record not found",
        "description": "x",
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, SierraBadRequestError),
        (415, SierraBadRequestError),
        (401, SierraAuthError),
        (403, SierraAuthError),
        (404, SierraNotFoundError),
        (409, SierraConflictError),
        (429, SierraUnavailableError),
        (500, SierraUnavailableError),
        (503, SierraUnavailableError),
    ],
)
def test_error_from_response_maps_status_to_type(status: int, expected: type[SierraError]) -> None:
    # Given a status with a non-JSON body (a proxy's HTML page)
    body = b"<html>oops</html>"

    # When it becomes an exception
    error = error_from_response(status, body, method="GET", path="/items")

    # Then the type follows the status and the missing body fields default to empty
    assert type(error) is expected
    assert (error.code, error.name, error.description) == (0, "", "")


def test_error_from_response_tolerates_missing_description() -> None:
    # Given an error body without description (Sierra omits it sometimes)
    body = b'{"code": 107, "specificCode": 0, "httpStatus": 404, "name": "Record not found"}'

    # When / Then
    error = error_from_response(404, body, method="GET", path="/items/9")
    assert error.description == ""
    assert "Record not found" in str(error)


# ----- Tokens -----------------------------------------------------------------------------------


def test_client_token_is_fetched_once_and_cached(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given a fresh client
    # When it makes several calls
    sierra_client.list_items(id_range_start=sierra_simulator.store.first_item_id, limit=3)
    sierra_client.get_item(sierra_simulator.store.first_item_id + 1)
    sierra_client.list_bibs_raw(ids=[sierra_simulator.store.first_bib_id])

    # Then one token served them all
    assert sierra_client.tokens_fetched == 1
    assert sierra_simulator.stats()["tokens_issued"] == 1


def test_client_refreshes_token_shortly_before_expiry(
    sierra_simulator_factory: Callable[..., RunningSimulator],
) -> None:
    # Given a Sierra whose tokens say they last 100 s, and a controllable clock
    simulator = sierra_simulator_factory(token_expires_in=100)
    now = [0.0]
    client = simulator.client(clock=lambda: now[0])
    client.get_item(simulator.store.first_item_id)

    # When 30 s pass, then 45 s more (inside the margin before expiry)
    now[0] = 30.0
    client.get_item(simulator.store.first_item_id)
    tokens_after_30s = client.tokens_fetched
    now[0] = 75.0
    client.get_item(simulator.store.first_item_id)

    # Then the token is reused at first and renewed before it expires
    assert tokens_after_30s == 1
    assert client.tokens_fetched == 2


def test_client_expired_token_reauthenticates_once_and_retries(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given a client holding a token that Sierra then expires
    item_id = sierra_simulator.store.first_item_id
    sierra_client.get_item(item_id)
    sierra_simulator.set_faults(expire_tokens=True)

    # When the next call is made
    item = sierra_client.get_item(item_id)

    # Then it succeeded after one 401 and one new token, without backoff sleeps
    assert item.int_id == item_id
    assert sierra_client.tokens_fetched == 2
    assert sierra_simulator.stats()["by_status"].get("401") == 1
    assert _sleeps(sierra_client) == []


def test_client_token_rejected_twice_raises_auth_error(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given Sierra answers 401/123 to the next two item requests
    sierra_simulator.set_faults(fail_next=[401, 401], path_prefix="/items")

    # When / Then the client re-authenticates once, then gives up with an auth error
    with pytest.raises(SierraAuthError) as caught:
        sierra_client.get_item(sierra_simulator.store.first_item_id)
    assert caught.value.code == 123
    assert sierra_client.tokens_fetched == 2


def test_client_reauthenticates_on_a_401_without_a_sierra_code(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given a token that expires and a gateway answering 401 OAuth-shaped, with no Sierra code
    item_id = sierra_simulator.store.first_item_id
    sierra_client.get_item(item_id)
    sierra_simulator.set_faults(expire_tokens=True, unauthorized_body="oauth")

    # When the next call is made
    item = sierra_client.get_item(item_id)

    # Then the client fetched a new token once and retried
    assert item.int_id == item_id
    assert sierra_client.tokens_fetched == 2
    assert sierra_simulator.stats()["by_status"].get("401") == 1


def test_client_wrong_credentials_raise_auth_error_without_retry(
    sierra_simulator: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a client with a wrong secret
    client = sierra_simulator.client(client_secret="wrong-secret-value")

    # When / Then the token request fails once, with the OAuth error Sierra sent
    with pytest.raises(SierraAuthError) as caught:
        client.list_items(limit=1)
    assert caught.value.http_status == 401
    assert (caught.value.name, caught.value.description) == ("invalid_client", "Invalid client credentials")
    assert "invalid_client (Invalid client credentials)" in str(caught.value)
    assert sierra_simulator.stats()["by_route"] == {"POST /token": 1}
    # And the failure is logged in its OAuth shape, without the credentials
    (record,) = [record for record in caplog.records if "/token" in record.getMessage()]
    assert (record.__dict__["error"], record.__dict__["error_description"]) == (
        "invalid_client",
        "Invalid client credentials",
    )
    assert "Invalid client credentials" in record.getMessage()
    assert "wrong-secret-value" not in caplog.text
    assert sierra_simulator.config.client_key not in caplog.text


def test_client_never_logs_or_shows_credentials(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient, caplog: pytest.LogCaptureFixture
) -> None:
    # Given verbose logging and a token that expires mid-way
    caplog.set_level(logging.DEBUG)
    sierra_client.get_item(sierra_simulator.store.first_item_id)
    sierra_simulator.set_faults(expire_tokens=True, fail_next=[503], path_prefix="/items")

    # When the client re-authenticates and retries
    sierra_client.get_item(sierra_simulator.store.first_item_id)

    # Then neither the secret nor any token appears in logs or repr
    token = sierra_client._token
    assert token is not None
    text = caplog.text + repr(sierra_client)
    assert sierra_simulator.config.client_secret not in text
    assert token not in text
    assert "HTTP 503; retry 1 of" in caplog.text


# ----- Retries ----------------------------------------------------------------------------------


def test_client_retries_503_then_succeeds(sierra_simulator: RunningSimulator, sierra_client: SierraClient) -> None:
    # Given two maintenance answers before a good one
    sierra_simulator.set_faults(fail_next=[503, 503], path_prefix="/items")

    # When listing items
    page = sierra_client.list_items(id_range_start=sierra_simulator.store.first_item_id, limit=10)

    # Then the third attempt succeeded after two growing backoff sleeps (base 0.01 s, jitter in [d/2, d])
    assert len(page.entries) == 10
    delays = _sleeps(sierra_client)
    assert len(delays) == 2
    assert 0.005 <= delays[0] <= 0.01
    assert 0.01 <= delays[1] <= 0.02


def test_client_retries_409_on_put_then_succeeds(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given a record locked for the first PUT
    item_id = sierra_simulator.store.first_item_id + 2
    sierra_simulator.set_faults(fail_next=[409], methods=["PUT"])

    # When the item is updated
    sierra_client.update_item(item_id, {"inventoryDate": "2026-11-22T09:00:00Z"})

    # Then it was applied exactly once, after one backoff
    assert sierra_simulator.store.put_counts() == {item_id: 1}
    raw = sierra_simulator.store.get_item_raw(item_id)
    assert raw is not None
    assert raw["fixedFields"]["69"] == {"label": "INVDA", "value": "2026-11-22T09:00:00Z"}
    assert len(_sleeps(sierra_client)) == 1


def test_client_never_retries_400(sierra_simulator: RunningSimulator, sierra_client: SierraClient) -> None:
    # Given an invalid PUT body (a fixed field without a value)
    item_id = sierra_simulator.store.first_item_id + 2

    # When / Then the bad request is raised at once
    with pytest.raises(SierraBadRequestError) as caught:
        sierra_client.update_item(item_id, {"fixedFields": {"93": {"label": "IUSE3"}}})
    assert caught.value.http_status == 400
    assert caught.value.code == 105
    assert len(sierra_simulator.store.put_log) == 1
    assert _sleeps(sierra_client) == []


def test_client_retries_exhausted_raise_unavailable(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given Sierra answers 500 more often than the client retries (3)
    sierra_simulator.set_faults(fail_next=[500, 500, 500, 500, 500], path_prefix="/items")

    # When / Then the fourth failure is raised as unavailable, with Sierra's code
    with pytest.raises(SierraUnavailableError) as caught:
        sierra_client.get_item(sierra_simulator.store.first_item_id)
    assert not isinstance(caught.value, SierraMaintenanceError)
    assert (caught.value.http_status, caught.value.code) == (500, 109)
    assert len(_sleeps(sierra_client)) == 3
    assert sierra_simulator.stats()["by_route"]["GET /items/{id}"] == 4


def test_client_503s_in_a_row_up_to_the_threshold_are_a_maintenance_window(
    sierra_simulator: RunningSimulator,
) -> None:
    # Given Sierra in a maintenance window, and a client retrying twice with a threshold of 5
    client = sierra_simulator.client(retries=2, maintenance_threshold=5)
    client.get_item(sierra_simulator.store.first_item_id)
    sierra_simulator.set_faults(maintenance=True)

    # When / Then the 503 is retried past the client's retries, until the fifth says maintenance
    with pytest.raises(SierraMaintenanceError) as caught:
        client.get_item(sierra_simulator.store.first_item_id)
    assert (caught.value.http_status, caught.value.code) == (503, 117)
    assert "maintenance window" in str(caught.value)
    assert len(_sleeps(client)) == 4
    assert sierra_simulator.stats()["by_status"]["503"] == 5


def test_client_503s_broken_by_an_answer_are_no_maintenance_window(sierra_simulator: RunningSimulator) -> None:
    # Given two 503s, a good answer, then three 503s, and a threshold of 4
    client = sierra_simulator.client(retries=3, maintenance_threshold=4)
    sierra_simulator.set_faults(fail_next=[503, 503], path_prefix="/items")
    client.get_item(sierra_simulator.store.first_item_id)
    sierra_simulator.set_faults(fail_next=[503, 503, 503], path_prefix="/items")

    # When / Then the streak started again, so the second request succeeds on its fourth try
    assert client.get_item(sierra_simulator.store.first_item_id).int_id == sierra_simulator.store.first_item_id
    assert sierra_simulator.stats()["by_status"]["503"] == 5


def test_client_concurrency_cap_halves_on_503_and_timeouts_and_comes_back(sierra_simulator: RunningSimulator) -> None:
    # Given a client capped at 4 concurrent requests, and Sierra answering 503 then timing out once
    client = sierra_simulator.client(max_concurrent_requests=4, timeout_seconds=0.3)
    assert client.concurrency is not None
    sierra_simulator.set_faults(fail_next=[503, "timeout"], hang_seconds=0.5, path_prefix="/items")

    # When one request meets both
    client.get_item(sierra_simulator.store.first_item_id)

    # Then the cap went 4 -> 2 -> 1, and calm answers raise it one step at a time
    assert client.concurrency.lowest == 1
    assert client.concurrency.limit == 2
    for _ in range(5):
        client.get_item(sierra_simulator.store.first_item_id)
    assert client.concurrency.limit == 4


def test_client_concurrency_cap_bounds_requests_in_flight(sierra_simulator: RunningSimulator) -> None:
    # Given a client capped at 2 but shared by 6 threads, and a slow Sierra
    client = sierra_simulator.client(max_concurrent_requests=2, pool_size=6)
    sierra_simulator.set_faults(latency_ms=30)
    ids = [sierra_simulator.store.first_item_id + offset for offset in range(24)]

    # When
    with ThreadPoolExecutor(max_workers=6) as pool:
        found = list(pool.map(lambda item_id: client.get_item(item_id, fields="id").int_id, ids))

    # Then Sierra never had more than two requests at once
    assert len(found) == len(ids)
    assert sierra_simulator.stats()["peak_in_flight"] == 2


def test_client_conflict_after_retries_raises_conflict(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given a record that stays locked
    sierra_simulator.set_faults(error_rates={409: 1.0}, methods=["PUT"])

    # When / Then the client gives up with a typed conflict carrying code 133
    with pytest.raises(SierraConflictError) as caught:
        sierra_client.update_item(sierra_simulator.store.first_item_id, {"inventoryDate": "2026-01-01"})
    assert caught.value.code == 133
    assert sierra_simulator.store.put_log == []


def test_client_retries_gateway_errors_with_html_bodies(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given a load balancer answering 502 with HTML once
    sierra_simulator.set_faults(fail_next=[502], path_prefix="/bibs")

    # When bibs are listed
    page = sierra_client.list_bibs_raw(ids=[sierra_simulator.store.first_bib_id])

    # Then the retry succeeded
    assert [int(bib["id"]) for bib in page["entries"]] == [sierra_simulator.store.first_bib_id]
    assert len(_sleeps(sierra_client)) == 1


def test_client_retries_timeouts(sierra_simulator: RunningSimulator) -> None:
    # Given a client with a short timeout and one request that hangs longer than it
    client = sierra_simulator.client(timeout_seconds=0.3)
    client.get_item(sierra_simulator.store.first_item_id)
    sierra_simulator.set_faults(fail_next=["timeout"], hang_seconds=1.0, path_prefix="/items")

    # When the item is fetched
    item = client.get_item(sierra_simulator.store.first_item_id)

    # Then the timed-out attempt was retried
    assert item.int_id == sierra_simulator.store.first_item_id
    assert len(_sleeps(client)) == 1


def test_client_connection_refused_raises_unavailable_after_retries() -> None:
    # Given a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = RecordedSleeps()
    client = SierraClient(f"http://127.0.0.1:{port}/iii/sierra-api/v6", "k", "s", retries=2, sleep=sleeps)

    # When / Then
    with client, pytest.raises(SierraUnavailableError, match="ConnectError"):
        client.list_items(limit=1)
    assert len(sleeps.delays) == 2


# ----- Listing ----------------------------------------------------------------------------------


def test_client_list_items_not_found_is_empty_page(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given an id range past the last item
    start = sierra_simulator.store.last_item_id + 1

    # When it is listed, typed and raw
    page = sierra_client.list_items(id_range_start=start)
    raw = sierra_client.list_items_raw(id_range_start=start)

    # Then both are empty pages (Sierra answered 404/107)
    assert page.entries == []
    assert raw["entries"] == []
    assert sierra_simulator.stats()["by_status"]["404"] == 2


def test_client_get_item_unknown_raises_not_found(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given / When / Then
    with pytest.raises(SierraNotFoundError) as caught:
        sierra_client.get_item(sierra_simulator.store.last_item_id + 10)
    assert caught.value.code == 107


def test_client_keyset_paging_returns_every_item_once(
    sierra_simulator_factory: Callable[..., RunningSimulator],
) -> None:
    # Given 5000 items (some deleted) and pages of 700
    simulator = sierra_simulator_factory(item_count=5000)
    client = simulator.client()

    # When paging from the first id
    pages = list(_item_pages(client, after=simulator.store.first_item_id - 1, limit=700))
    raw_pages = [client.list_items_raw(id_range_start=page.rows[0].int_id, limit=700) for page in pages]

    # Then every id appears once, ascending, and the pager stopped on the short page
    ids = [item.int_id for page in pages for item in page.rows]
    assert ids == list(range(simulator.store.first_item_id, simulator.store.last_item_id + 1))
    assert [int(entry["id"]) for page in raw_pages for entry in page["entries"]] == ids
    assert [len(page.rows) for page in pages] == [700] * 7 + [100]
    assert [page.next_after for page in pages][-2:] == [pages[-2].rows[-1].int_id, None]
    assert any(item.deleted and item.deleted_date is not None for page in pages for item in page.rows)


def test_client_keyset_paging_stops_after_exact_multiple(
    sierra_simulator_factory: Callable[..., RunningSimulator],
) -> None:
    # Given 1400 items and pages of 700: the last full page is followed by a 404/107
    simulator = sierra_simulator_factory(item_count=1400)
    client = simulator.client()

    # When paging
    pages = list(_item_pages(client, after=simulator.store.first_item_id - 1, limit=700))

    # Then two full pages came back and the empty third answer, the last page, ended the loop
    assert [len(page.rows) for page in pages] == [700, 700, 0]
    assert pages[-1].next_after is None
    assert simulator.stats()["by_status"]["404"] == 1


def test_client_list_items_by_id_list_chunks_and_merges(
    sierra_simulator: RunningSimulator, sierra_client: SierraClient
) -> None:
    # Given 1200 ids in random order, some unknown, with duplicates
    first = sierra_simulator.store.first_item_id
    wanted = [first + offset for offset in range(1199, -1, -1)] + [first, sierra_simulator.store.last_item_id + 5]

    # When they are listed
    page = sierra_client.list_items(ids=wanted)
    raw = sierra_client.list_items_raw(ids=wanted)

    # Then every existing item came back once, ascending, over three requests per call
    assert [item.int_id for item in page.entries] == list(range(first, first + 1200))
    assert [int(entry["id"]) for entry in raw["entries"]] == list(range(first, first + 1200))
    assert sierra_simulator.stats()["by_route"]["GET /items"] == 6


def test_client_list_items_updated_between_finds_edited_items(
    sierra_simulator_factory: Callable[..., RunningSimulator],
) -> None:
    # Given two items edited at a fixed moment, later than every seeded record
    simulator = sierra_simulator_factory(clock=lambda: FIXED_NOW)
    first = simulator.store.first_item_id
    simulator.store.edit_item(first + 7, callNumber="84.2 UUS")
    simulator.store.edit_item(first + 3, barcode="99999")
    client = simulator.client()

    # When a window around that moment is listed, and one just after it
    page = client.list_items(updated_between=(FIXED_NOW - timedelta(minutes=5), FIXED_NOW))
    later = client.list_items(updated_between=(FIXED_NOW + timedelta(seconds=1), None))

    # Then exactly the edited items are in the window, ascending, with their new values
    assert [item.int_id for item in page.entries] == [first + 3, first + 7]
    assert page.entries[0].barcode == "99999"
    assert page.entries[1].call_number == "|a84.2 UUS"
    assert page.entries[1].updated_date == FIXED_NOW
    assert later.entries == []


def test_client_list_items_deleted_between_finds_deletions(
    sierra_simulator_factory: Callable[..., RunningSimulator],
) -> None:
    # Given an item deleted on a known day
    simulator = sierra_simulator_factory()
    item_id = simulator.store.first_item_id + 11
    simulator.store.delete_item(item_id, deleted_on=date(2026, 3, 4))
    client = simulator.client()

    # When deletions of that day are listed
    page = client.list_items(deleted_between=(date(2026, 3, 4), date(2026, 3, 4)), deleted=True)

    # Then the item is there as a deleted stub
    assert [(item.int_id, item.deleted, item.deleted_date) for item in page.entries] == [
        (item_id, True, date(2026, 3, 4))
    ]


def test_client_get_item_and_put_back_changed_var_fields(
    sierra_simulator_factory: Callable[..., RunningSimulator],
) -> None:
    # Given an item read with every field
    simulator = sierra_simulator_factory(clock=lambda: FIXED_NOW)
    client = simulator.client()
    item_id = next(
        item_id
        for item_id in range(simulator.store.first_item_id, simulator.store.last_item_id)
        if "callNumber" in (simulator.store.get_item_raw(item_id) or {})
    )
    item = client.get_item(item_id, fields=ITEM_FIELDS)

    # When its call number varField is replaced and the list sent back
    var_fields = [field.to_sierra() for field in item.var_fields if field.field_tag != "c"]
    var_fields.append({"fieldTag": "c", "marcTag": "099", "subfields": [{"tag": "a", "content": "99.1 UUS"}]})
    client.update_item(item_id, {"varFields": var_fields})

    # Then Sierra has the new call number, the barcode kept, and a bumped updatedDate
    updated = client.get_item(item_id)
    assert updated.call_number == "|a99.1 UUS"
    assert updated.barcode == item.barcode
    assert updated.updated_date == FIXED_NOW


def test_client_shared_by_threads_puts_each_item_once_with_one_new_token(
    sierra_simulator: RunningSimulator,
) -> None:
    # Given one client shared by 8 threads and tokens that expire after the first PUTs
    client = sierra_simulator.client(pool_size=8)
    first = sierra_simulator.store.first_item_id
    item_ids = [
        first + n for n in range(200) if not (sierra_simulator.store.get_item_raw(first + n) or {}).get("deleted")
    ]
    client.update_item(item_ids[0], {"inventoryDate": "2026-11-22T09:00:00Z"})
    sierra_simulator.set_faults(expire_tokens=True)

    # When every item is written concurrently
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda item_id: client.update_item(item_id, {"inventoryDate": "2026-11-22"}), item_ids[1:]))

    # Then each item got exactly one successful PUT and the threads shared one new token
    counts = sierra_simulator.store.put_counts()
    assert counts == dict.fromkeys(item_ids, 1)
    assert client.tokens_fetched == 2


def test_client_from_settings_uses_pool_timeout_and_retries(sierra_simulator: RunningSimulator) -> None:
    # Given settings pointing at the simulator
    settings = Settings(
        sierra_api_endpoint=sierra_simulator.base_url,
        sierra_api_client_pool_size=3,
        sierra_api_client_timeout_seconds=7.5,
        sierra_api_client_retries=1,
    )

    # When a client is built from them with explicit credentials
    with SierraClient.from_settings(
        settings,
        client_key=SecretStr(sierra_simulator.config.client_key),
        client_secret=SecretStr(sierra_simulator.config.client_secret),
        sleep=RecordedSleeps(),
    ) as client:
        page = client.list_items(limit=2)
        sierra_simulator.set_faults(fail_next=[500, 500], path_prefix="/items")
        with pytest.raises(SierraUnavailableError) as caught:
            client.list_items(limit=2)

    # Then it worked, with one retry only, and the timeout from the settings
    assert len(page.entries) == 2
    assert caught.value.code == 109
    assert client._retries == 1
    assert client._http.timeout.read == 7.5


def test_client_limit_outside_bounds_is_refused_locally(sierra_client: SierraClient) -> None:
    # Given / When / Then: no request for a limit Sierra would refuse
    with pytest.raises(ValueError, match="limit"):
        sierra_client.list_items(limit=2001)


def _item_pages(client: SierraClient, *, after: int, limit: int) -> Iterator[KeysetPage[SierraItem]]:
    """Every page of items after the id `after`, by keyset, as the sync's passes page Sierra."""
    return keyset.iter_pages(
        lambda start: client.list_items(id_range_start=start + 1, limit=limit).entries,
        after=after,
        limit=limit,
        key=lambda item: item.int_id,
    )
