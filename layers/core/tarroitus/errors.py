"""Domain exceptions. Services raise these; the API turns them into HTTP responses in one place."""

from typing import Any


class TarroitusError(Exception):
    """Base of every expected failure; `code` is machine-readable, `message` is for people."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        if code is not None:
            self.code = code


class InvalidInputError(TarroitusError):
    """The request is well-formed but its content is not acceptable."""

    status_code = 422
    code = "invalid_input"


class BadRequestError(TarroitusError):
    """The request body cannot be read at all (bad gzip, bad CSV, wrong encoding)."""

    status_code = 400
    code = "bad_request"


class AuthenticationError(TarroitusError):
    """No valid API key: the caller is not known (never says whether a client exists)."""

    status_code = 401
    code = "not_authenticated"


class PermissionDeniedError(TarroitusError):
    """The caller is known but its role does not allow the operation."""

    status_code = 403
    code = "forbidden"


class NotFoundError(TarroitusError):
    """The record asked for does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(TarroitusError):
    """The operation clashes with the current state (duplicate name, item with no classification...)."""

    status_code = 409
    code = "conflict"


class PayloadTooLargeError(TarroitusError):
    """The request body exceeds the configured limit."""

    status_code = 413
    code = "payload_too_large"


class TooManyRequestsError(TarroitusError):
    """The caller sent too many requests (e.g. failed authentications) and must wait."""

    status_code = 429
    code = "too_many_requests"


class ServiceUnavailableError(TarroitusError):
    """A dependency (the database) is not reachable right now."""

    status_code = 503
    code = "unavailable"


class UpstreamUnavailableError(TarroitusError):
    """Sierra did not answer usefully after the allowed retries."""

    status_code = 502
    code = "sierra_unavailable"
