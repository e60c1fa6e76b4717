"""Typed errors for Sierra REST API failures, built from Sierra's error body.

Sierra answers errors with `{"code", "specificCode", "httpStatus", "name", "description"}`;
`description` is sometimes missing. The token endpoint answers OAuth-shaped errors instead:
`{"error": "invalid_client", "error_description": "..."}`, read into `name` and `description`.
Callers catch the subclass that matches what they can do about it: a missing record, a request
they must fix, a conflict worth retrying later, an unavailable server (or one in a maintenance
window), or credentials that do not work.
"""

import json
from typing import Any

#: Sierra's "Record not found" code (HTTP 404).
RECORD_NOT_FOUND_CODE = 107


class SierraError(Exception):
    """A failed Sierra API call, with the fields of Sierra's error body (0/"" when absent)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int = 0,
        code: int = 0,
        specific_code: int = 0,
        name: str = "",
        description: str = "",
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.specific_code = specific_code
        self.name = name
        self.description = description

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-able dict in Sierra's own shape (for recording a last error)."""
        return {
            "code": self.code,
            "specificCode": self.specific_code,
            "httpStatus": self.http_status,
            "name": self.name,
            "description": self.description,
        }


class SierraNotFoundError(SierraError):
    """HTTP 404 / code 107: the record does not exist (or a listing matched nothing)."""


class SierraBadRequestError(SierraError):
    """HTTP 400 (and other non-retryable 4xx): the request is wrong and retrying cannot help."""


class SierraConflictError(SierraError):
    """HTTP 409 / code 133: the record is locked or in conflict, still so after the retries."""


class SierraUnavailableError(SierraError):
    """Sierra did not answer usefully: 5xx or 429 after the retries, timeouts, connection errors."""


class SierraMaintenanceError(SierraUnavailableError):
    """Sierra answered 503 so many times in a row that it is taken to be in a maintenance window."""


class SierraAuthError(SierraError):
    """HTTP 401/403 that a fresh token does not fix: wrong credentials or missing permissions."""


def parse_error_body(content: bytes) -> dict[str, Any]:
    """Sierra's error body as a dict, or an empty dict when the body is not that JSON object."""
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return 0


def error_from_response(status_code: int, content: bytes, *, method: str, path: str) -> SierraError:
    """The typed error for one failed Sierra response (status code plus raw body)."""
    body = parse_error_body(content)
    code = _int(body.get("code"))
    name = str(body.get("name") or body.get("error") or "")
    description = str(body.get("description") or body.get("error_description") or "")
    fields: dict[str, Any] = {
        "http_status": status_code,
        "code": code,
        "specific_code": _int(body.get("specificCode")),
        "name": name,
        "description": description,
    }
    detail = f": {name}" if name else ""
    detail += f" ({description})" if description else ""
    message = f"Sierra {method} {path} failed with HTTP {status_code} code {code}{detail}"
    error_class: type[SierraError]
    if status_code == 404:
        error_class = SierraNotFoundError
    elif status_code == 409:
        error_class = SierraConflictError
    elif status_code in (401, 403):
        error_class = SierraAuthError
    elif status_code == 429 or status_code >= 500:
        error_class = SierraUnavailableError
    elif 400 <= status_code < 500:
        error_class = SierraBadRequestError
    else:
        error_class = SierraError
    return error_class(message, **fields)
