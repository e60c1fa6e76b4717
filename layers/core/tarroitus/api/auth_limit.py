"""A limit on failed authentications, per presented key and per source address, that never refuses a valid key.

Every presented key is verified; a key that verifies is served, whatever failed before it. A key
that fails answers 401 (the legacy protocol: 403) until one of two limits is reached inside
`window_seconds`, and 429 with `Retry-After` from then on:

- per key: `limit` failures of the same key, from anywhere (a station left running with a revoked
  key is told to back off, and nobody else is affected);
- per source: `limit` different failing keys from one source address (key guessing). Other clients
  behind the same address (a library's NAT) keep working with their valid keys.

Both counts live in the process: in Lambda that is one execution environment, so an attacker spread
over many concurrent containers gets `limit` tries per container per window. Keys carry 256 random
bits, so guessing cannot succeed whatever the answer; the global layer is API Gateway's throttling
(stage rate and burst limits in template.yaml) and, when needed, AWS WAF rate rules.

The source is the ASGI client address: Mangum fills it from API Gateway's `requestContext` source
IP, which the caller cannot forge; the local stack's uvicorn ignores `X-Forwarded-For`.
"""

import hashlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from tarroitus.api.errors import error_response
from tarroitus.errors import TooManyRequestsError

#: Sources and keys remembered at most each; the least recently failing are forgotten first (bounded memory).
MAX_TRACKED = 10_000
UNKNOWN_SOURCE = "unknown"
SOURCE_BLOCKED = "Too many failed authentication attempts from this address; try again later"
KEY_BLOCKED = "Too many failed authentication attempts with this key; try again later"


class AuthBlockedError(TooManyRequestsError):
    """A failed authentication past a limit; `retry_after` seconds until the next failure answers 401 again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(
            message, code="too_many_failed_authentications", details=[{"retry_after_seconds": retry_after}]
        )
        self.retry_after = retry_after


class FailedAuthLimiter:
    """Sliding-window counts of failures per key and of distinct failing keys per source; thread-safe.

    Keys are held as SHA-256 digests, never in clear.
    """

    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.clock = clock
        self.max_tracked = max_tracked
        # key digest -> times of its latest failures (at most `limit`)
        self._by_key: OrderedDict[str, deque[float]] = OrderedDict()
        # source -> key digest -> time of that key's latest failure from the source (at most `limit` keys)
        self._by_source: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def refuse_failure(self, source: str, api_key: str) -> None:
        """Count a failed authentication with `api_key`; raise AuthBlockedError when it is past a limit.

        A refusal past a limit is not counted, so a block ends `window_seconds` after the failures that caused it.
        """
        key_hash = hashlib.sha256(api_key.encode("utf-8", "surrogateescape")).hexdigest()
        with self._lock:
            now = self.clock()
            key_failures = self._recent_key_failures(key_hash, now)
            source_keys = self._recent_source_keys(source, now)
            retry_after = 0.0
            message = SOURCE_BLOCKED
            if len(key_failures) >= self.limit:
                retry_after, message = key_failures[0] + self.window_seconds - now, KEY_BLOCKED
            if len(source_keys) >= self.limit and key_hash not in source_keys:
                oldest = next(iter(source_keys.values()))
                retry_after, message = max(retry_after, oldest + self.window_seconds - now), SOURCE_BLOCKED
            if retry_after > 0:
                raise AuthBlockedError(message, max(1, math.ceil(retry_after)))
            key_failures.append(now)
            _remember(self._by_key, key_hash, key_failures, self.max_tracked)
            source_keys.pop(key_hash, None)
            source_keys[key_hash] = now
            while len(source_keys) > self.limit:
                source_keys.popitem(last=False)
            _remember(self._by_source, source, source_keys, self.max_tracked)

    def _recent_key_failures(self, key_hash: str, now: float) -> deque[float]:
        # Only the newest `limit` failures matter: the block ends when the oldest of them expires.
        failures = self._by_key.get(key_hash) or deque(maxlen=self.limit)
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        return failures

    def _recent_source_keys(self, source: str, now: float) -> OrderedDict[str, float]:
        keys = self._by_source.get(source) or OrderedDict()
        while keys and next(iter(keys.values())) <= now - self.window_seconds:
            keys.popitem(last=False)
        return keys


def _remember[V](table: OrderedDict[str, V], name: str, value: V, capacity: int) -> None:
    table[name] = value
    table.move_to_end(name)
    while len(table) > capacity:
        table.popitem(last=False)


def source_of(request: Request) -> str:
    """The address the request came from (API Gateway's source IP under Mangum)."""
    return request.client.host if request.client else UNKNOWN_SOURCE


async def get_auth_limiter(request: Request) -> FailedAuthLimiter:
    """The app's limiter, created by `create_app`."""
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    return limiter


AuthLimiterDep = Annotated[FailedAuthLimiter, Depends(get_auth_limiter)]


async def handle_auth_blocked(request: Request, exc: Exception) -> JSONResponse:
    """429 in the protocol's error body, with `Retry-After`."""
    assert isinstance(exc, AuthBlockedError)
    headers = {"Retry-After": str(exc.retry_after)}
    return error_response(request, exc.status_code, exc.code, exc.message, exc.details, headers=headers)
