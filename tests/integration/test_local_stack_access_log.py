"""The local stack's access log: a key sent in a query string is refused and never written to the log."""

import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from local_stack.stack import configure_access_log

from tarroitus.api.app import create_app
from tarroitus.settings import Settings
from tests.api_server import serve_app
from tests.log_capture import all_logs_at_debug

KEY = "trt_" + "QueryStringKey0123456789abcdefghijklmnopqrstu"
ADOPTED_KEY = "legacy-station-key-0123456789"


@pytest.fixture
def access_logged_api(settings: Settings) -> Iterator[str]:
    """The API behind uvicorn with its access log on, configured as `make dev` configures it."""
    access_log = logging.getLogger("uvicorn.access")
    with serve_app(create_app(settings), access_log=True) as base_url:
        configure_access_log()
        try:
            yield base_url
        finally:
            for each in list(access_log.filters):
                access_log.removeFilter(each)


def test_keys_in_a_query_string_are_refused_and_masked_in_the_access_log(access_logged_api: str) -> None:
    # When: keys in query parameters, under the names a client might try, and as a bare value
    with all_logs_at_debug() as logs:
        answers = [
            httpx.get(f"{access_logged_api}{path}").status_code
            for path in (
                f"/api/v1/items?limit=5&api_key={KEY}",
                f"/itemdata/31234000000001?x-api-key={ADOPTED_KEY}",
                f"/api/v1/status?token={ADOPTED_KEY}&X-Api-Key={ADOPTED_KEY}",
                f"/api/v1/items?{KEY}",
            )
        ]
        time.sleep(0.2)
    # Then: refused, logged, and the keys are nowhere in the server's log (the test's own HTTP client logs its URLs)
    assert answers == [401, 403, 401, 401]
    server_log = [line for line in logs.rendered if not line.startswith(("httpx", "httpcore"))]
    access_lines = [line for line in server_log if line.startswith("uvicorn.access")]
    assert len(access_lines) == 4, logs.text
    assert "/api/v1/items?limit=5&api_key=REDACTED HTTP/1.1" in access_lines[0]
    assert "/api/v1/status?token=REDACTED&X-Api-Key=REDACTED HTTP/1.1" in access_lines[2]
    assert not [line for line in server_log if KEY in line or ADOPTED_KEY in line]
