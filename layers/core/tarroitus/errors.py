"""Domain exceptions. Services raise these; the API turns them into HTTP responses in one place."""

from typing import Any


class TarroitusError(Exception):
    """Base of every expected failure; `code` is machine-readable, `message` is for people."""

    status_code = 500
    code = "internal_error"

    def __init_subclass__(cls, *, status_code: int | None = None, code: str | None = None, **kwargs: Any) -> None:
        """A subclass names its HTTP status and machine-readable code in its class line."""
        super().__init_subclass__(**kwargs)
        if status_code is not None:
            cls.status_code = status_code
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        if code is not None:
            self.code = code


class InvalidInputError(TarroitusError, status_code=422, code="invalid_input"):
    """The request is well-formed but its content is not acceptable."""


class BadRequestError(TarroitusError, status_code=400, code="bad_request"):
    """The request body cannot be read at all (bad gzip, bad CSV, wrong encoding)."""


class AuthenticationError(TarroitusError, status_code=401, code="not_authenticated"):
    """No valid API key: the caller is not known (never says whether a client exists)."""


class PermissionDeniedError(TarroitusError, status_code=403, code="forbidden"):
    """The caller is known but its role does not allow the operation."""


class NotFoundError(TarroitusError, status_code=404, code="not_found"):
    """The record asked for does not exist."""


class ConflictError(TarroitusError, status_code=409, code="conflict"):
    """The operation clashes with the current state (duplicate name, item with no classification...)."""


class PayloadTooLargeError(TarroitusError, status_code=413, code="payload_too_large"):
    """The request body exceeds the configured limit."""


class TooManyRequestsError(TarroitusError, status_code=429, code="too_many_requests"):
    """The caller sent too many requests (e.g. failed authentications) and must wait."""


class ServiceUnavailableError(TarroitusError, status_code=503, code="unavailable"):
    """A dependency (the database) is not reachable right now."""


class UpstreamUnavailableError(TarroitusError, status_code=502, code="sierra_unavailable"):
    """Sierra did not answer usefully after the allowed retries."""
