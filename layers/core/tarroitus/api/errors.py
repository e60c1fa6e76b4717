"""Exception handlers: every error leaves as a typed body, never as a stack trace.

/api/v1 answers `{"error": {"code", "message", "details"}}`; the legacy protocol that existing
printer stations speak keeps FastAPI's `{"detail": ...}` bodies, which those stations parse.
"""

from typing import Any

from aws_lambda_powertools import Logger
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tarroitus.api.security_headers import add_security_headers
from tarroitus.error_reporting import report_exception
from tarroitus.errors import TarroitusError

logger = Logger(child=True)

API_PREFIX = "/api/"
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    503: "unavailable",
}


def is_api_path(request: Request) -> bool:
    """True for /api/... paths, which use the error envelope; legacy paths keep `detail` bodies."""
    return request.url.path.startswith(API_PREFIX)


def error_response(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The error body for `request`'s protocol."""
    if is_api_path(request):
        body: dict[str, Any] = {"error": {"code": code, "message": message, "details": details or []}}
    else:
        body = {"detail": message}
    return JSONResponse(status_code=status_code, content=body, headers=headers)


def validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """FastAPI's validation errors as `{"field", "message", "type"}` entries."""
    details = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        details.append({"field": ".".join(location), "message": error.get("msg", ""), "type": error.get("type", "")})
    return details


async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
    """A raised TarroitusError, with its status, code and details."""
    assert isinstance(exc, TarroitusError)
    return error_response(request, exc.status_code, exc.code, exc.message, exc.details)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each field at fault."""
    assert isinstance(exc, RequestValidationError)
    if not is_api_path(request):
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(exc.errors())})
    details = validation_details(exc)
    fields = ", ".join(detail["field"] for detail in details)
    return error_response(request, 422, "invalid_input", f"Invalid input: {fields}", details)


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Routing and framework errors (404 unknown path, 405...) in the same body shape."""
    assert isinstance(exc, StarletteHTTPException)
    # Our routes never raise HTTPException, so a 400 here is FastAPI or Starlette refusing a body it
    # could not decode (not UTF-8 JSON, a broken multipart form). FastAPI answers a JSON syntax error
    # with 422; answering these alike means every body route documents one status for a bad body.
    if exc.status_code == 400:
        return unreadable_body(request)
    code = STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(request, exc.status_code, code, message, headers=getattr(exc, "headers", None))


def unreadable_body(request: Request) -> JSONResponse:
    """422 for a body FastAPI could not decode (bytes that are not UTF-8 JSON, a broken form), like invalid JSON."""
    message = "The request body cannot be decoded as its declared content type"
    if not is_api_path(request):
        return JSONResponse(
            status_code=422, content={"detail": [{"loc": ["body"], "msg": message, "type": "json_invalid"}]}
        )
    details = [{"field": "body", "message": message, "type": "json_invalid"}]
    return error_response(request, 422, "invalid_input", message, details)


async def handle_data_error(request: Request, exc: Exception) -> JSONResponse:
    """A request value PostgreSQL cannot hold (a NUL character, a number out of range): 422, not 500."""
    assert isinstance(exc, DataError)
    # Only the type: the statement's parameters are the request's values.
    logger.warning(
        "Value refused by the database", extra={"path": request.url.path, "error_type": type(exc.orig).__name__}
    )
    message = "A value in the request cannot be stored (a NUL character, or a number out of range)"
    if not is_api_path(request):
        # FastAPI's validation body, which the legacy protocol documents for 422.
        return JSONResponse(
            status_code=422, content={"detail": [{"loc": ["request"], "msg": message, "type": "value_error"}]}
        )
    return error_response(request, 422, "invalid_input", message)


#: Seconds a client should wait before retrying while the database is unreachable (a restart takes seconds).
DATABASE_RETRY_AFTER_SECONDS = 2


async def handle_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database could not be reached or aborted the transaction (restart, failover, deadlock): 503, retry."""
    assert isinstance(exc, OperationalError | InterfaceError)
    logger.warning("Database unavailable", extra={"path": request.url.path, "error_type": type(exc.orig).__name__})
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    return error_response(request, 503, "unavailable", "The database is not reachable; retry shortly", headers=headers)


async def handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: logged with its traceback, reported (SENTRY_DSN), answered with a generic 500."""
    logger.exception("Unhandled error", extra={"path": request.url.path, "error_type": type(exc).__name__})
    report_exception(exc, tags={"failure": "api_error"}, request=request)
    response = error_response(request, 500, "internal_error", "Internal server error")
    # Starlette answers this from its outermost middleware, outside SecurityHeadersMiddleware.
    add_security_headers(response.headers, https=request.url.scheme == "https", api_path=is_api_path(request))
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on `app`."""
    app.add_exception_handler(TarroitusError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(DataError, handle_data_error)
    app.add_exception_handler(OperationalError, handle_database_unavailable)
    app.add_exception_handler(InterfaceError, handle_database_unavailable)
    app.add_exception_handler(Exception, handle_unexpected_error)
