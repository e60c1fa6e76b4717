"""Fault injection: latency, error statuses, maintenance windows, hanging requests, early token expiry.

`FaultConfig` is set when the simulator is created and can be changed at runtime with
`POST /_simulator/faults` (a JSON object with any of its fields, plus `"expire_tokens": true` to
invalidate every issued token or `"reset": true` to restore the defaults). Random decisions use a
`random.Random` seeded from `FaultConfig.seed`, so a single-threaded test sees the same faults on
every run; `fail_next` gives fully deterministic sequences.

Injected errors carry Sierra's error body with the matching code: 500 -> 109, 503 -> 117,
409 -> 133, 401 -> 123 (token expired), 429 -> 0; 502 and 504 answer with an HTML body, as a
load balancer in front of Sierra would. With `unauthorized_body="oauth"` an injected 401 comes
OAuth-shaped (`{"error": "invalid_token", "error_description": ...}`, no Sierra code), as a gateway
in front of Sierra answers. `refused_put_keys` makes Sierra refuse (400) any PUT whose body holds one
of its keys (`{"inventoryDate": [item ids]}`; `null` instead of a list: on every item).
"""

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from starlette.responses import JSONResponse, Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Sierra error (code, name, description) per injectable status.
SIERRA_ERRORS: dict[int, tuple[int, str, str]] = {
    500: (109, "Internal server error", "Simulated internal error"),
    503: (117, "Service unavailable", "Simulated service unavailability"),
    409: (133, "Record locked", "The record is in use by another process"),
    401: (123, "Unauthorized", "invalid_grant"),
    429: (0, "Too Many Requests", "Simulated throttling"),
    400: (105, "Invalid request", "Simulated bad request"),
}
#: Statuses answered by a "proxy" with an HTML body instead of a Sierra error body.
HTML_ERRORS = frozenset({502, 504})
MAINTENANCE = (117, "Service unavailable", "Sierra is in a maintenance window")
TIMEOUT: Literal["timeout"] = "timeout"

FailNext = int | Literal["timeout"]


@dataclass
class FaultConfig:
    """What to inject. Error, timeout and `fail_next` faults apply to requests matching `methods` and
    `path_prefix` (relative to the API prefix, e.g. `/items`); latency and maintenance apply to all."""

    seed: int = 0
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rates: dict[int, float] = field(default_factory=dict)
    timeout_rate: float = 0.0
    hang_seconds: float = 5.0
    fail_next: list[FailNext] = field(default_factory=list)
    methods: list[str] | None = None
    path_prefix: str | None = None
    maintenance: bool = False
    token_ttl_seconds: float | None = None
    unauthorized_body: Literal["sierra", "oauth"] = "sierra"
    refused_put_keys: dict[str, list[int] | None] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise ValueError for settings that make no sense."""
        if self.unauthorized_body not in ("sierra", "oauth"):
            raise ValueError("unauthorized_body is sierra or oauth")
        for status, rate in self.error_rates.items():
            if status not in SIERRA_ERRORS and status not in HTML_ERRORS:
                raise ValueError(f"cannot inject HTTP {status}")
            if not 0.0 <= rate <= 1.0:
                raise ValueError("error rates are probabilities between 0 and 1")
        if sum(self.error_rates.values()) + self.timeout_rate > 1.0:
            raise ValueError("error rates and timeout_rate add up to more than 1")
        for entry in self.fail_next:
            if entry != TIMEOUT and entry not in SIERRA_ERRORS and entry not in HTML_ERRORS:
                raise ValueError(f"fail_next entry {entry!r} is not an injectable status or 'timeout'")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0 or self.hang_seconds < 0:
            raise ValueError("latencies must be >= 0")


@dataclass(frozen=True)
class Decision:
    """What to do with one request."""

    delay_seconds: float = 0.0
    status: int | None = None
    maintenance: bool = False
    hang_seconds: float = 0.0


def error_response(status: int, code: int, name: str, description: str) -> Response:
    """A response with Sierra's error body."""
    body = {"code": code, "specificCode": 0, "httpStatus": status, "name": name, "description": description}
    return JSONResponse(body, status_code=status)


def oauth_error_response(status: int, error: str, description: str) -> Response:
    """A response with an OAuth 2.0 error body, as the token endpoint (and gateways) answer."""
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def injected_response(status: int, config: FaultConfig) -> Response:
    """The response for an injected error status."""
    if status in HTML_ERRORS:
        return Response(f"<html><body><h1>{status}</h1>Gateway error</body></html>", status, media_type="text/html")
    if status == 401 and config.unauthorized_body == "oauth":
        return oauth_error_response(401, "invalid_token", "The access token is invalid or has expired")
    code, name, description = SIERRA_ERRORS[status]
    return error_response(status, code, name, description)


class FaultInjector:
    """Decides per request which fault to inject; thread-safe, counts what it injected."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.config = config or FaultConfig()
        self.config.validate()
        self._random = random.Random(self.config.seed)
        self.injected: Counter[str] = Counter()
        self.tokens_expired_at = 0.0

    def update(self, changes: dict[str, Any]) -> FaultConfig:
        """Apply runtime changes (same keys as FaultConfig, plus `reset` and `expire_tokens`)."""
        changes = dict(changes)
        with self._lock:
            base = FaultConfig() if changes.pop("reset", False) else self.config
            if changes.pop("expire_tokens", False):
                self.tokens_expired_at = time.monotonic()
            known = {item.name for item in fields(FaultConfig)}
            unknown = set(changes) - known
            if unknown:
                raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
            values = {**asdict(base), **changes}
            values["error_rates"] = {int(status): float(rate) for status, rate in values["error_rates"].items()}
            config = FaultConfig(**values)
            config.validate()
            if "seed" in changes or config.seed != self.config.seed:
                self._random = random.Random(config.seed)
            self.config = config
            return config

    def refused_put_keys(self, item_id: int) -> frozenset[str]:
        """The top-level PUT keys Sierra refuses on this item."""
        with self._lock:
            return frozenset(key for key, ids in self.config.refused_put_keys.items() if ids is None or item_id in ids)

    def as_dict(self) -> dict[str, Any]:
        """The current configuration as JSON-able data."""
        with self._lock:
            return asdict(self.config)

    def decide(self, method: str, path: str) -> Decision:
        """The fault (if any) for a request to `path` (relative to the API prefix)."""
        with self._lock:
            config = self.config
            delay = config.latency_ms / 1000.0
            if config.latency_jitter_ms:
                delay += self._random.uniform(0, config.latency_jitter_ms) / 1000.0
            if config.maintenance:
                self.injected["maintenance"] += 1
                return Decision(delay_seconds=delay, maintenance=True)
            if not self._in_scope(config, method, path):
                return Decision(delay_seconds=delay)
            if config.fail_next:
                entry = config.fail_next.pop(0)
                return self._decision_for(entry, delay, config)
            roll = self._random.random()
            for status, rate in sorted(config.error_rates.items()):
                if roll < rate:
                    return self._decision_for(status, delay, config)
                roll -= rate
            if roll < config.timeout_rate:
                return self._decision_for(TIMEOUT, delay, config)
            return Decision(delay_seconds=delay)

    def _decision_for(self, entry: FailNext, delay: float, config: FaultConfig) -> Decision:
        if entry == TIMEOUT:
            self.injected["timeout"] += 1
            return Decision(delay_seconds=delay, hang_seconds=config.hang_seconds)
        self.injected[str(entry)] += 1
        return Decision(delay_seconds=delay, status=int(entry))

    @staticmethod
    def _in_scope(config: FaultConfig, method: str, path: str) -> bool:
        if config.methods is not None and method.upper() not in {m.upper() for m in config.methods}:
            return False
        return config.path_prefix is None or path.startswith(config.path_prefix)


class FaultMiddleware:
    """ASGI middleware applying `FaultInjector` decisions to requests under the API prefix."""

    def __init__(
        self,
        app: ASGIApp,
        injector: FaultInjector,
        prefix: str,
        on_status: Callable[[str, int], None],
        in_flight: "InFlight | None" = None,
    ):
        self.app = app
        self.injector = injector
        self.prefix = prefix
        self.on_status = on_status
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request in flight while it is answered (see `_answer`)."""
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        if self.in_flight is not None:
            self.in_flight.enter()
        try:
            await self._answer(scope, receive, send, path)
        finally:
            if self.in_flight is not None:
                self.in_flight.leave()

    async def _answer(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """Delay, answer with an injected error, hang, or pass the request on; report the final status."""
        relative = path[len(self.prefix) :] or "/"
        route = f"{scope['method']} {_route_template(relative)}"
        decision = self.injector.decide(str(scope["method"]), relative)
        if decision.delay_seconds:
            await asyncio.sleep(decision.delay_seconds)
        if decision.hang_seconds:
            await asyncio.sleep(decision.hang_seconds)
        if decision.maintenance:
            code, name, description = MAINTENANCE
            response = error_response(503, code, name, description)
            self.on_status(route, 503)
            await response(scope, receive, send)
            return
        if decision.status is not None:
            self.on_status(route, decision.status)
            await injected_response(decision.status, self.injector.config)(scope, receive, send)
            return

        async def reporting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.on_status(route, int(message["status"]))
            await send(message)

        await self.app(scope, receive, reporting_send)


class InFlight:
    """Requests being answered right now, and the most there ever were at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def enter(self) -> None:
        """One more request in flight."""
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def leave(self) -> None:
        """One request answered."""
        with self._lock:
            self.current -= 1

    def reset(self) -> None:
        """Forget the peak."""
        with self._lock:
            self.peak = self.current


def _route_template(path: str) -> str:
    parts = ["{id}" if part.isdigit() else part for part in path.split("/")]
    return "/".join(parts)
