"""Small helpers for API tests: key headers and error-body assertions."""

from typing import Any

import httpx


def key_header(api_key: str) -> dict[str, str]:
    """The /api/v1 key header."""
    return {"X-API-Key": api_key}


def assert_api_error(response: httpx.Response, status_code: int, code: str) -> dict[str, Any]:
    """Assert an /api/v1 error response's status and code; return its error object."""
    assert response.status_code == status_code, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    return error
