"""Credentials in a request target's query string are masked before uvicorn's access log writes it."""

import logging

import pytest
from local_stack.servers import RedactQueryCredentials, redact_query


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/api/v1/items?limit=5", "/api/v1/items?limit=5"),
        ("/api/v1/items", "/api/v1/items"),
        ("/api/v1/items?api_key=secret-1&limit=5", "/api/v1/items?api_key=REDACTED&limit=5"),
        ("/itemdata/1?X-API-KEY=secret-2", "/itemdata/1?X-API-KEY=REDACTED"),
        (
            "/x?access_token=a&token=b&password=c&apikey=d",
            "/x?access_token=REDACTED&token=REDACTED&password=REDACTED&apikey=REDACTED",
        ),
        ("/x?q=trt_abcdef", "/x?q=REDACTED"),
        ("/x?q=trt%5Fabcdef", "/x?q=REDACTED"),
        ("/x?trt_abcdef", "/x?REDACTED"),
        ("/x?x%2Dapi%2Dkey=secret-3", "/x?x%2Dapi%2Dkey=REDACTED"),
        ("/x?key=", "/x?key=REDACTED"),
        ("/x?monkey=banana&keyword=k", "/x?monkey=banana&keyword=k"),
    ],
)
def test_redact_query_masks_credentials_only(target: str, logged: str) -> None:
    assert redact_query(target) == logged


def test_the_filter_rewrites_the_request_target_of_an_access_log_record() -> None:
    # Given: a record as uvicorn's access logger makes it
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/items?api_key=trt_secret", "1.1", 401),
        None,
    )
    # When
    kept = RedactQueryCredentials().filter(record)
    # Then
    assert kept
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/v1/items?api_key=REDACTED HTTP/1.1" 401'
