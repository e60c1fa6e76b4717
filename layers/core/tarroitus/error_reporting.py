"""Error reports to Sentry when SENTRY_DSN is set: unhandled API errors, failed runs, dead-lettered writebacks.

The SDK is imported only once a DSN is configured (importing it takes most of a second), so a
function without one pays nothing at its cold start, and every call here is a no-op. Each report
carries the environment (ENV), the release (SENTRY_RELEASE) and the function's name as a tag.
Nothing else of the request leaves: no default PII, no request bodies, headers, cookies or query
strings, no local variables, no breadcrumbs; `scrub` removes credential- and patron-shaped values
from whatever remains (messages, exception values, context), as a last line of defence.
"""

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tarroitus.invocation_context import current_function_name
from tarroitus.settings import Settings

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint
    from starlette.requests import Request

#: Seconds a flush may wait for queued reports to leave (the end of each Lambda invocation).
FLUSH_TIMEOUT_SECONDS = 2.0
FILTERED = "[Filtered]"
#: Keys whose values are never sent, wherever they appear in an event.
SENSITIVE_KEY = re.compile(
    r"api[-_]?key|authori[sz]ation|token|passw(or)?d|secret|pepper|cookie|session|credential|signature|dsn"
    r"|patron|e-?mail|phone|address|birth",
    re.IGNORECASE,
)
#: Credential-shaped text inside strings: `Bearer x`, `password=x` / `"token": "x"`, URL user info, API keys.
SENSITIVE_TEXT = (
    (re.compile(r"\b(bearer|basic)\s+[^\s\"',;]+", re.IGNORECASE), rf"\1 {FILTERED}"),
    (
        re.compile(
            r"((?:api[-_]?key|access[-_]?token|token|passw(?:or)?d|secret|pepper|authorization|dsn)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\s\"',;&}]+",
            re.IGNORECASE,
        ),
        rf"\1{FILTERED}",
    ),
    (re.compile(r"([a-z][a-z0-9+.-]*://)[^\s/@]+@", re.IGNORECASE), rf"\1{FILTERED}@"),
    (re.compile(r"\btrt_[A-Za-z0-9_-]{8,}"), FILTERED),
)
#: Of the request interface, only these are sent (the URL without its query string).
REQUEST_FIELDS = ("method", "url")

_configured: tuple[str, str, str | None] | None = None


def configure(settings: Settings) -> bool:
    """Start (or stop) reporting as `settings` say; True when reports are sent. Idempotent."""
    global _configured
    dsn = settings.sentry_dsn.get_secret_value().strip() if settings.sentry_dsn else ""
    wanted = (dsn, settings.env, settings.sentry_release) if dsn else None
    if wanted == _configured:
        return wanted is not None
    if _configured is not None:
        import sentry_sdk

        sentry_sdk.get_client().close(timeout=FLUSH_TIMEOUT_SECONDS)
        sentry_sdk.init()
        _configured = None
    if wanted is None:
        return False
    try:
        import sentry_sdk
    except ImportError as exc:
        raise RuntimeError(
            "SENTRY_DSN is set but sentry-sdk is missing: deploy with the SentryDsn parameter (it attaches the"
            " error-reporting layer) or install the project's error-reporting extra"
        ) from exc

    sentry_sdk.init(
        dsn=dsn,
        environment=settings.env,
        release=settings.sentry_release or None,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        # No integration: nothing is captured behind the package's back (log records, request data,
        # threads), and none of FastAPI, SQLAlchemy or boto3 is imported for one.
        default_integrations=False,
        auto_enabling_integrations=False,
        auto_session_tracking=False,
        send_client_reports=False,
        max_breadcrumbs=0,
        before_send=scrub,
    )
    _configured = wanted
    return True


def report_exception(
    exc: BaseException, *, tags: Mapping[str, str] | None = None, request: "Request | None" = None
) -> None:
    """Report `exc` with the current function's name and `tags` (and the request's method and path)."""
    if _configured is None:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        _tag(scope, tags)
        if request is not None:
            described: dict[str, object] = {"method": request.method, "url": request.url.path}

            def describe_request(event: "Event", _hint: "Hint") -> "Event":
                event["request"] = described
                return event

            scope.add_event_processor(describe_request)
        scope.capture_exception(exc)


def report_message(message: str, *, tags: Mapping[str, str] | None = None, context: Mapping[str, Any]) -> None:
    """Report an event that is not an exception (a dead-lettered writeback), with `context` attached."""
    if _configured is None:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        _tag(scope, tags)
        scope.set_context("details", dict(context))
        scope.capture_message(message, level="error")


def flush() -> None:
    """Send what is queued (Lambda freezes the process between invocations)."""
    if _configured is None:
        return
    import sentry_sdk

    sentry_sdk.flush(timeout=FLUSH_TIMEOUT_SECONDS)


def _tag(scope: Any, tags: Mapping[str, str] | None) -> None:
    function_name = current_function_name()
    if function_name:
        scope.set_tag("function", function_name)
    for name, value in (tags or {}).items():
        scope.set_tag(name, value)


def scrub(event: "Event", _hint: "Hint") -> "Event":
    """`before_send`: the event without user data, with only the request's method and path, and with
    every value under a sensitive key, and every credential-shaped text, replaced by "[Filtered]"."""
    event.pop("user", None)
    event.pop("breadcrumbs", None)
    request = event.get("request")
    if isinstance(request, dict):
        kept = {name: request[name] for name in REQUEST_FIELDS if name in request}
        url = kept.get("url")
        if isinstance(url, str):
            kept["url"] = url.split("?", 1)[0].split("#", 1)[0]
        event["request"] = kept
    scrubbed: Event = _scrub_value(event)
    return scrubbed


def _scrub_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: FILTERED if isinstance(key, str) and SENSITIVE_KEY.search(key) else _scrub_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub_value(item) for item in value]
    if isinstance(value, str):
        for pattern, replacement in SENSITIVE_TEXT:
            value = pattern.sub(replacement, value)
    return value
