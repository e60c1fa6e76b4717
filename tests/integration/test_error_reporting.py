"""Error reports reach Sentry (a recording stand-in on 127.0.0.1) from the real handlers, without secrets.

Each test imports the Lambda handler with SENTRY_DSN set, as a cold start would, and invokes it with
a real event shape: an API 500, a failed ETL run, a dead-lettered writeback against the simulator.
"""

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from local_stack.stack import load_handler
from sqlalchemy import Engine

from tarroitus import error_reporting
from tarroitus.models import Item
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.settings import Settings, get_settings
from tests.events import FakeLambdaContext, http_api_event, scheduler_event
from tests.log_capture import all_logs_at_debug
from tests.sentry_server import RecordedEnvelopes, fake_sentry
from tests.sierra_fixtures import RunningSimulator

RELEASE = "tarroitus@1.2.3"
API_KEY = "trt_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
BEARER = "trt_bearer9876543210zyxwvutsrqponmlkjihgfedcbaZY"
PASSWORD = "hunter2-correct-horse"
COOKIE = "sessionid-5f1e0c9a"
PATRON = "Maija Meikäläinen"
SECRETS = (API_KEY, BEARER, PASSWORD, COOKIE, PATRON)
HANDLERS = ("functions.api.handler", "functions.etl.handler", "functions.sierra_writeback.handler")


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, RecordedEnvelopes]]:
    """The stand-in, its DSN and release in the environment the handlers read at import; all undone after."""
    with fake_sentry() as (dsn, recorded):
        monkeypatch.setenv("SENTRY_DSN", dsn)
        monkeypatch.setenv("SENTRY_RELEASE", RELEASE)
        get_settings.cache_clear()
        yield dsn, recorded
    for module in HANDLERS:
        sys.modules.pop(module, None)
    error_reporting.configure(Settings(sentry_dsn=None))
    get_settings.cache_clear()


def failing_readiness(monkeypatch: pytest.MonkeyPatch) -> None:
    """The readiness route fails unexpectedly, with credentials in the error's text."""

    def broken(_engine: object) -> None:
        raise RuntimeError(f"cannot connect: password={PASSWORD} Authorization: Bearer {BEARER}")

    monkeypatch.setattr("tarroitus.api.routes.utils.check_database", broken)


def hostile_request() -> dict[str, Any]:
    """A request carrying every credential a client may send, and a body with a password."""
    return http_api_event(
        "POST",
        "/api/v1/utils/readiness",
        headers={
            "X-API-Key": API_KEY,
            "Authorization": f"Bearer {BEARER}",
            "Cookie": f"session={COOKIE}",
            "Content-Type": "application/json",
        },
        query={"api_key": API_KEY, "token": BEARER},
        body={"password": PASSWORD, "patron": PATRON},
    )


def assert_no_secret(recorded: RecordedEnvelopes) -> None:
    sent = b"\n".join(recorded.raw).decode("utf-8")
    for secret in SECRETS:
        assert secret not in sent
        assert json.dumps(secret)[1:-1] not in sent


def test_an_api_500_reaches_sentry_tagged_and_scrubbed(
    sentry: tuple[str, RecordedEnvelopes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the API Lambda with a DSN, and a route that fails with secrets in its error
    dsn, recorded = sentry
    failing_readiness(monkeypatch)
    with all_logs_at_debug() as logs:
        api = load_handler("functions.api.handler")
        # When: a request carrying an API key, a bearer token, a cookie, query keys and a password (GET route, POST
        # answers 405; so the same headers on the GET)
        event = hostile_request()
        event["requestContext"]["http"]["method"] = "GET"
        response = api(event, FakeLambdaContext(function_name="tarroitus-dev-ApiFunction"))
    # Then: a generic 500, and one report with the environment, release and function, and nothing secret
    assert response["statusCode"] == 500
    (report,) = recorded.wait_for_events(1)
    assert report["environment"] == "test"
    assert report["release"] == RELEASE
    assert report["tags"] == {"function": "tarroitus-dev-ApiFunction", "failure": "api_error"}
    assert report["request"] == {"method": "GET", "url": "/api/v1/utils/readiness"}
    (exception,) = report["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert "password=[Filtered]" in exception["value"]
    assert "Authorization: [Filtered]" in exception["value"]
    assert "user" not in report
    assert_no_secret(recorded)
    # And the DSN is never logged
    assert dsn not in logs.text
    assert "public@" not in logs.text


def test_a_failed_job_run_reaches_sentry_with_its_function_name(sentry: tuple[str, RecordedEnvelopes]) -> None:
    # Given: the ETL Lambda with a DSN
    _dsn, recorded = sentry
    etl = load_handler("functions.etl.handler")
    # When: a run fails (a manual invocation asking for a mode that does not exist, with a password in it)
    with pytest.raises(Exception, match="mode must be one of"):
        etl({**scheduler_event(), "mode": f"password={PASSWORD}"}, FakeLambdaContext(function_name="tarroitus-EtlFn"))
    # Then
    (report,) = recorded.wait_for_events(1)
    assert (report["environment"], report["release"]) == ("test", RELEASE)
    assert report["tags"] == {"function": "tarroitus-EtlFn", "failure": "run_failed"}
    assert report["exception"]["values"][0]["type"] == "InvalidInputError"
    assert_no_secret(recorded)


def test_a_dead_lettered_writeback_reaches_sentry(
    sentry: tuple[str, RecordedEnvelopes],
    committed_db: Engine,
    sierra_simulator: RunningSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given: the writeback Lambda against the simulator, which refuses the item's call number
    _dsn, recorded = sentry
    item_id = sierra_simulator.store.first_item_id
    while sierra_simulator.store.get_item_raw(item_id) is None:
        item_id += 1
    for name, value in {
        "SIERRA_API_ENDPOINT": sierra_simulator.base_url,
        "SIERRA_API_CLIENT_KEY": sierra_simulator.config.client_key,
        "SIERRA_API_CLIENT_SECRET": sierra_simulator.config.client_secret,
        "SIERRA_UPDATE_BACKOFF_BASE_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with session_scope(committed_db) as session:
        session.add(Item(item_record_id=item_id))
        session.flush()
        queue.enqueue_item(session, item_record_id=item_id, classification="84.2")
    sierra_simulator.set_faults(refused_put_keys={"varFields": None})
    writeback = load_handler("functions.sierra_writeback.handler")
    # When
    result = writeback(scheduler_event(), FakeLambdaContext(function_name="tarroitus-WritebackFn"))
    # Then: the item is dead-lettered and reported as such, with its id and Sierra's answer
    assert result["dead_lettered"] == 1
    (report,) = recorded.wait_for_events(1)
    assert report["message"] == "Writeback dead-lettered"
    assert report["level"] == "error"
    assert (report["environment"], report["release"]) == ("test", RELEASE)
    assert report["tags"] == {"function": "tarroitus-WritebackFn", "failure": "dead_lettered"}
    details = report["contexts"]["details"]
    assert details["item_record_id"] == item_id
    assert details["refused_parts"] == ["call_number"]
    assert sierra_simulator.config.client_secret not in b"\n".join(recorded.raw).decode()


def test_nothing_is_sent_without_a_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: the stand-in listening, but no SENTRY_DSN
    with fake_sentry() as (_dsn, recorded):
        monkeypatch.delenv("SENTRY_DSN", raising=False)
        get_settings.cache_clear()
        failing_readiness(monkeypatch)
        api = load_handler("functions.api.handler")
        try:
            # When
            event = hostile_request()
            event["requestContext"]["http"]["method"] = "GET"
            response = api(event, FakeLambdaContext())
            error_reporting.flush()
        finally:
            sys.modules.pop("functions.api.handler", None)
    # Then
    assert response["statusCode"] == 500
    assert recorded.raw == []


def test_the_scrubber_filters_sensitive_keys_urls_and_text_anywhere_in_an_event() -> None:
    # Given: an event as an integration might fill it
    event: Any = {
        "user": {"ip_address": "192.0.2.1"},
        "request": {
            "method": "POST",
            "url": f"https://api.example.com/api/v1/items?api_key={API_KEY}",
            "query_string": f"api_key={API_KEY}",
            "headers": {"X-Api-Key": API_KEY},
            "cookies": {"session": COOKIE},
            "data": {"password": PASSWORD},
        },
        "extra": {
            "database": f"postgresql://tarroitus:{PASSWORD}@db.internal:5432/tarroitus",
            "settings": {"db_password": PASSWORD, "patron_name": PATRON, "pages": 3},
            "note": f'{{"token": "{BEARER}"}} and key {API_KEY}',
        },
    }
    # When
    scrubbed = error_reporting.scrub(event, {})
    # Then
    assert "user" not in scrubbed
    assert scrubbed["request"] == {"method": "POST", "url": "https://api.example.com/api/v1/items"}
    assert scrubbed["extra"]["database"] == "postgresql://[Filtered]@db.internal:5432/tarroitus"
    assert scrubbed["extra"]["settings"] == {"db_password": "[Filtered]", "patron_name": "[Filtered]", "pages": 3}
    assert all(secret not in json.dumps(scrubbed) for secret in SECRETS)
