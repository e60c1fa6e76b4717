"""The Sierra REST API v6 simulator as a FastAPI app (the contract is shared/SIERRA.md).

Endpoints under `/iii/sierra-api/v6`: `POST /token`, `GET /items`, `GET|PUT /items/{id}`,
`POST /items/query`, `GET /bibs`, `GET /bibs/{id}`. Control endpoints (no auth):
`GET|POST /_simulator/faults`, `GET /_simulator/stats`, `POST /_simulator/reset`.

Every error answers with Sierra's body `{"code","specificCode","httpStatus","name","description"}`,
except the token endpoint's, which are OAuth-shaped (`{"error","error_description"}`: 401
`invalid_client`, 400 `unsupported_grant_type`), as on real servers.
Codes used: 107 not found (404); 108 invalid query parameter, 105 invalid PUT content (an empty
`subfields` list, a fixed field without a label...), 113 invalid JSON, 116 invalid record id (400);
120 missing token, 123 invalid or expired token (401; OAuth-shaped `invalid_token` with the fault
`unauthorized_body="oauth"`); 126 a PUT/POST body that is not `application/json` (415).
A PUT replaces, per `fieldTag` in its body, the item's varFields with that tag and keeps the others;
its `inventoryDate` is stored in fixed field `inventory_date_field` (69 INVDA by default) and never
returned as such.
Query parameters are validated strictly (unknown parameters, bad dates, `limit` outside 1-2000 ->
400) so that client mistakes show up here rather than against the real Sierra.
"""

import base64
import binascii
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .faults import FaultConfig, FaultInjector, FaultMiddleware, InFlight, error_response, oauth_error_response
from .store import (
    BIB_DEFAULT_FIELDS,
    BIB_FIELD_ORDER,
    ITEM_DEFAULT_FIELDS,
    ITEM_FIELD_ORDER,
    DateBounds,
    RecordQuery,
    SierraStore,
    StoreError,
)

API_PREFIX = "/iii/sierra-api/v6"
MAX_LIMIT = 2000
DEFAULT_LIMIT = 50
JSON_MEDIA_TYPE = "application/json;charset=UTF-8"

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ITEM_PARAMS = frozenset(
    {"id", "updatedDate", "createdDate", "deletedDate", "deleted", "suppressed", "bibIds", "fields", "limit", "offset"}
)
_BIB_PARAMS = frozenset(
    {"id", "updatedDate", "createdDate", "deletedDate", "deleted", "suppressed", "fields", "limit", "offset"}
)


@dataclass
class SimulatorConfig:
    """How to seed and run one simulator."""

    item_count: int = 5000
    seed: int = 1
    client_key: str = "simulator-key"
    client_secret: str = "simulator-secret"
    token_expires_in: int = 3600
    intl_use_label: str = "IUSE3"
    inventory_date_field: str = "69"
    faults: FaultConfig = field(default_factory=FaultConfig)
    clock: Callable[[], datetime] | None = None


class TokenRegistry:
    """Issued access tokens with their expiry (monotonic clock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[float, float]] = {}
        self.issued = 0

    def issue(self, lifetime_seconds: float) -> str:
        """A new token valid for `lifetime_seconds`."""
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._tokens[token] = (now, now + lifetime_seconds)
            self.issued += 1
        return token

    def is_valid(self, token: str, *, expired_before: float) -> bool:
        """True if the token was issued here, after `expired_before`, and has not expired."""
        with self._lock:
            times = self._tokens.get(token)
        if times is None:
            return False
        issued_at, expires_at = times
        return issued_at > expired_before and time.monotonic() < expires_at


class SimulatorStats:
    """Request counters for `GET /_simulator/stats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_route: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.in_flight = InFlight()
        self.started = time.monotonic()

    def record(self, route: str, status: int) -> None:
        """Count one answered request."""
        with self._lock:
            self.by_route[route] += 1
            self.by_status[status] += 1

    def reset(self) -> None:
        """Zero the counters."""
        with self._lock:
            self.by_route.clear()
            self.by_status.clear()
            self.in_flight.reset()
            self.started = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        """The counters as JSON-able data."""
        with self._lock:
            return {
                "requests": sum(self.by_status.values()),
                "by_status": {str(status): count for status, count in sorted(self.by_status.items())},
                "by_route": dict(sorted(self.by_route.items())),
                "peak_in_flight": self.in_flight.peak,
                "uptime_seconds": round(time.monotonic() - self.started, 3),
            }


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OAuthError(Exception):
    """An error answered OAuth-shaped: `{"error": ..., "error_description": ...}`."""

    def __init__(self, http_status: int, error: str, description: str) -> None:
        super().__init__(f"{http_status} {error}: {description}")
        self.http_status = http_status
        self.error = error
        self.description = description


def _bad_param(description: str) -> StoreError:
    return StoreError(400, 108, "Invalid parameter", description)


def _parse_bool(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    if value in ("true", "false"):
        return value == "true"
    raise _bad_param(f"{name} must be true or false")


def _parse_int(name: str, value: str) -> int:
    if not value.strip().isdigit():
        raise _bad_param(f"{name} must be a non-negative integer")
    return int(value)


def _parse_ids(value: str) -> tuple[list[int] | None, int | None, int | None]:
    """`1,2,3` -> a list; `[a,b]`, `[a,]`, `[,b]` -> inclusive bounds."""
    if value.startswith("["):
        if not value.endswith("]") or value.count(",") != 1:
            raise _bad_param("id range must look like [low,high] with either end optional")
        low, high = value[1:-1].split(",")
        return None, _parse_int("id", low) if low else None, _parse_int("id", high) if high else None
    ids = [_parse_int("id", part) for part in value.split(",")]
    if not ids:
        raise _bad_param("id must not be empty")
    return ids, None, None


def _parse_range(
    name: str, value: str | None, pattern: re.Pattern[str], parse: Callable[[str], int]
) -> DateBounds | None:
    if value is None:
        return None
    if value.startswith("["):
        if not value.endswith("]") or value.count(",") != 1:
            raise _bad_param(f"{name} range must look like [from,to] with either end optional")
        low, high = value[1:-1].split(",")
    else:
        low = high = value
    for part in (low, high):
        if part and not pattern.match(part):
            raise _bad_param(f"{name} has an invalid date: {part!r}")
    try:
        return (parse(low) if low else None, parse(high) if high else None)
    except ValueError as exc:
        raise _bad_param(f"{name} has an invalid date: {exc}") from exc


def _epoch(value: str) -> int:
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _day(value: str) -> int:
    return date.fromisoformat(value).toordinal()


def _parse_fields(value: str | None, order: tuple[str, ...], defaults: frozenset[str]) -> set[str]:
    if value is None or not value.strip():
        return set(defaults)
    wanted: set[str] = set()
    for name in (part.strip() for part in value.split(",")):
        if name == "default":
            wanted |= defaults
        elif name in order:
            wanted.add(name)
        else:
            raise _bad_param(f"Unknown field: {name!r}")
    return wanted


def parse_record_query(params: dict[str, str], allowed: frozenset[str]) -> RecordQuery:
    """Validate `GET /items` or `GET /bibs` query parameters."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise _bad_param(f"Unknown parameter(s): {', '.join(unknown)}")
    query = RecordQuery()
    if "limit" in params:
        query.limit = _parse_int("limit", params["limit"])
        if not 1 <= query.limit <= MAX_LIMIT:
            raise _bad_param(f"limit must be between 1 and {MAX_LIMIT}")
    else:
        query.limit = DEFAULT_LIMIT
    query.offset = _parse_int("offset", params["offset"]) if "offset" in params else 0
    if "id" in params:
        query.ids, query.id_lo, query.id_hi = _parse_ids(params["id"])
    query.updated = _parse_range("updatedDate", params.get("updatedDate"), _DATETIME, _epoch)
    query.created = _parse_range("createdDate", params.get("createdDate"), _DATETIME, _epoch)
    query.deleted_days = _parse_range("deletedDate", params.get("deletedDate"), _DAY, _day)
    query.deleted = _parse_bool("deleted", params.get("deleted"))
    query.suppressed = _parse_bool("suppressed", params.get("suppressed"))
    if "bibIds" in params:
        query.bib_ids = [_parse_int("bibIds", part) for part in params["bibIds"].split(",")]
    return query


def _require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise StoreError(
            415, 126, "Unsupported Media Type", f"Content-Type must be application/json, not {content_type!r}"
        )


def _record_id(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise StoreError(400, 116, "Invalid record ID", f"{value!r} is not a record id")
    return int(value)


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=JSON_MEDIA_TYPE)


@dataclass
class SimulatorState:
    """Everything one simulator app serves from; `app.state.simulator`."""

    config: SimulatorConfig
    store: SierraStore
    faults: FaultInjector
    tokens: TokenRegistry
    stats: SimulatorStats

    def reset(self) -> None:
        """Back to the seeded data, the configured faults and clock, no valid tokens, zero counters."""
        self.store.reset()
        self.store.clock = self.config.clock or _utcnow
        self.faults.update({**asdict(self.config.faults), "expire_tokens": True})
        self.faults.injected.clear()
        self.stats.reset()

    def snapshot(self) -> dict[str, Any]:
        """What `GET /_simulator/stats` answers."""
        snapshot = self.stats.snapshot()
        snapshot.update(
            {
                "items": self.store.item_count,
                "bibs": self.store.bib_count,
                "overlay_items": self.store.overlay_item_count,
                "overlay_bibs": self.store.overlay_bib_count,
                "puts": len(self.store.put_log),
                "tokens_issued": self.tokens.issued,
                "faults_injected": dict(self.faults.injected),
                "puts_refused": self.store.refused_puts,
            }
        )
        return snapshot

    def authorise(self, request: Request) -> None:
        """Refuse requests without a valid bearer token (401 / 120 or 123)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise StoreError(401, 120, "Unauthorized", "invalid_token: no bearer token")
        if not self.tokens.is_valid(token.strip(), expired_before=self.faults.tokens_expired_at):
            if self.faults.config.unauthorized_body == "oauth":
                raise OAuthError(401, "invalid_token", "The access token is invalid or has expired")
            raise StoreError(401, 123, "Unauthorized", "invalid_grant")


def _state(request: Request) -> SimulatorState:
    state: SimulatorState = request.app.state.simulator
    return state


api = APIRouter(prefix=API_PREFIX)
control = APIRouter(prefix="/_simulator")


@api.post("/token")
async def create_token(request: Request) -> Response:
    """Client-credentials grant with HTTP Basic auth."""
    sim = _state(request)
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        key, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        key = secret = ""
    key_ok = secrets.compare_digest(key.encode(), sim.config.client_key.encode())
    secret_ok = secrets.compare_digest(secret.encode(), sim.config.client_secret.encode())
    if scheme.lower() != "basic" or not (key_ok and secret_ok):
        raise OAuthError(401, "invalid_client", "Invalid client credentials")
    form = (await request.body()).decode("utf-8", "replace")
    if "grant_type=client_credentials" not in form.split("&"):
        raise OAuthError(400, "unsupported_grant_type", "grant_type must be client_credentials")
    lifetime = sim.faults.config.token_ttl_seconds
    token = sim.tokens.issue(sim.config.token_expires_in if lifetime is None else lifetime)
    return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": sim.config.token_expires_in})


@api.get("/items")
async def list_items(request: Request) -> Response:
    """Items by id list/range and filters, ascending by id."""
    sim = _state(request)
    sim.authorise(request)
    params = dict(request.query_params)
    query = parse_record_query(params, _ITEM_PARAMS)
    wanted = _parse_fields(params.get("fields"), ITEM_FIELD_ORDER, ITEM_DEFAULT_FIELDS)
    _, body = sim.store.render_items(query, wanted)
    return _json(body)


@api.post("/items/query")
async def query_items(request: Request) -> Response:
    """Minimal JSON query: items whose barcode (varField b) equals a value."""
    sim = _state(request)
    sim.authorise(request)
    params = dict(request.query_params)
    offset = _parse_int("offset", params.get("offset", "0"))
    limit = _parse_int("limit", params.get("limit", str(DEFAULT_LIMIT)))
    _require_json(request)
    barcode = _barcode_query(await request.body())
    ids = sim.store.find_items_by_barcode(barcode)[offset : offset + limit]
    base = str(request.base_url).rstrip("/") + API_PREFIX
    entries = [{"link": f"{base}/items/{item_id}"} for item_id in ids]
    return JSONResponse({"total": len(entries), "start": offset, "entries": entries})


@api.get("/items/{item_id}")
async def get_item(item_id: str, request: Request) -> Response:
    """One item (a deleted one as its stub)."""
    sim = _state(request)
    sim.authorise(request)
    wanted = _parse_fields(request.query_params.get("fields"), ITEM_FIELD_ORDER, ITEM_DEFAULT_FIELDS)
    return _json(sim.store.render_item(_record_id(item_id), wanted))


@api.put("/items/{item_id}")
async def update_item(item_id: str, request: Request) -> Response:
    """Change the fields sent; 204."""
    sim = _state(request)
    sim.authorise(request)
    _require_json(request)
    record_id = _record_id(item_id)
    sim.store.put_item(record_id, await request.body(), refused_keys=sim.faults.refused_put_keys(record_id))
    return Response(status_code=204)


@api.get("/bibs")
async def list_bibs(request: Request) -> Response:
    """Bibs by id list/range and filters, ascending by id."""
    sim = _state(request)
    sim.authorise(request)
    params = dict(request.query_params)
    query = parse_record_query(params, _BIB_PARAMS)
    wanted = _parse_fields(params.get("fields"), BIB_FIELD_ORDER, BIB_DEFAULT_FIELDS)
    _, body = sim.store.render_bibs(query, wanted)
    return _json(body)


@api.get("/bibs/{bib_id}")
async def get_bib(bib_id: str, request: Request) -> Response:
    """One bib."""
    sim = _state(request)
    sim.authorise(request)
    wanted = _parse_fields(request.query_params.get("fields"), BIB_FIELD_ORDER, BIB_DEFAULT_FIELDS)
    return _json(sim.store.render_bib(_record_id(bib_id), wanted))


@control.get("/faults")
async def read_faults(request: Request) -> Response:
    """The current fault configuration."""
    return JSONResponse(_state(request).faults.as_dict())


@control.post("/faults")
async def update_faults(request: Request) -> Response:
    """Change fault settings (FaultConfig keys, plus `expire_tokens` and `reset`)."""
    faults = _state(request).faults
    try:
        changes = await request.json()
        if not isinstance(changes, dict):
            raise ValueError("the body must be a JSON object")
        faults.update(changes)
    except (ValueError, TypeError) as exc:
        return error_response(400, 105, "Invalid request", str(exc))
    return JSONResponse(faults.as_dict())


@control.get("/stats")
async def read_stats(request: Request) -> Response:
    """Request counts by route and status, store sizes, PUTs, tokens and injected faults."""
    return JSONResponse(_state(request).snapshot())


@control.post("/reset")
async def reset(request: Request) -> Response:
    """Back to the seeded data, the configured faults and clock, no valid tokens, zero counters."""
    _state(request).reset()
    return Response(status_code=204)


async def _sierra_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StoreError)
    return error_response(exc.http_status, exc.code, exc.name, exc.description)


async def _oauth_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return oauth_error_response(exc.http_status, exc.error, exc.description)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, 0, str(exc.detail), "No such endpoint or method")


def create_simulator_app(config: SimulatorConfig | None = None, *, store: SierraStore | None = None) -> FastAPI:
    """A simulator app; `app.state.simulator` (a SimulatorState) gives tests the store, faults and tokens."""
    config = config or SimulatorConfig()
    store = store or SierraStore(
        item_count=config.item_count,
        seed=config.seed,
        intl_use_label=config.intl_use_label,
        inventory_date_field=config.inventory_date_field,
        clock=config.clock,
    )
    state = SimulatorState(config, store, FaultInjector(config.faults), TokenRegistry(), SimulatorStats())
    app = FastAPI(
        title="Sierra REST API v6 simulator", docs_url="/_simulator/docs", openapi_url="/_simulator/openapi.json"
    )
    app.state.simulator = state
    app.include_router(api)
    app.include_router(control)
    app.add_exception_handler(StoreError, _sierra_error)
    app.add_exception_handler(OAuthError, _oauth_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(
        FaultMiddleware,
        injector=state.faults,
        prefix=API_PREFIX,
        on_status=state.stats.record,
        in_flight=state.stats.in_flight,
    )
    return app


def _barcode_query(raw: bytes) -> str:
    """The barcode of a `{"target": {... "field": {"tag": "b"}}, "expr": {"op": "equals", ...}}` query."""
    try:
        query = json.loads(raw)
        target = query["target"]
        expr = query["expr"]
        if target["record"]["type"] != "item" or target["field"]["tag"] != "b":
            raise StoreError(400, 105, "Invalid request", "only item barcode (field tag b) queries are supported")
        if expr["op"] != "equals" or len(expr["operands"]) != 1:
            raise StoreError(400, 105, "Invalid request", "only the equals operator with one operand is supported")
        return str(expr["operands"][0])
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(400, 113, "Bad JSON/XML Syntax", f"Invalid query: {exc}") from exc
