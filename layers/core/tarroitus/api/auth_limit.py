"""A limit on failed authentications per source address, against API key guessing.

After `limit` failed attempts from one source within `window_seconds`, every request from that
source that needs a key answers 429 with `Retry-After` until the oldest failure leaves the window
(a valid key included, so a lucky guess during the block is not confirmed). The count lives in the
process: in Lambda that is one execution environment, so an attacker spread over many concurrent
containers gets `limit` tries per container per window. The global layer is API Gateway's
throttling (stage rate and burst limits in template.yaml) and, when needed, AWS WAF rate rules.

The source is the ASGI client address: Mangum fills it from API Gateway's `requestContext`
source IP, which the caller cannot forge. `X-Forwarded-For` is never read.
"""

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

#: Sources remembered at most; the least recently failing are forgotten first (bounded memory).
MAX_TRACKED_SOURCES = 10_000
UNKNOWN_SOURCE = "unknown"


class AuthBlockedError(TooManyRequestsError):
    """Too many failed authentications from this source; `retry_after` seconds until the next try."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many failed authentication attempts from this address; try again later",
            code="too_many_failed_authentications",
            details=[{"retry_after_seconds": retry_after}],
        )
        self.retry_after = retry_after


class FailedAuthLimiter:
    """A sliding-window count of failed authentications per source; thread-safe."""

    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_sources: int = MAX_TRACKED_SOURCES,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.clock = clock
        self.max_sources = max_sources
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, source: str) -> None:
        """Raise AuthBlockedError while `source` has `limit` failures inside the window."""
        with self._lock:
            failures = self._recent(source, self.clock())
            if len(failures) < self.limit:
                return
            retry_after = max(1, math.ceil(failures[0] + self.window_seconds - self.clock()))
        raise AuthBlockedError(retry_after)

    def record_failure(self, source: str) -> None:
        """Count one failed authentication from `source`."""
        with self._lock:
            now = self.clock()
            failures = self._recent(source, now)
            failures.append(now)
            self._failures[source] = failures
            self._failures.move_to_end(source)
            while len(self._failures) > self.max_sources:
                self._failures.popitem(last=False)

    def _recent(self, source: str, now: float) -> deque[float]:
        # Only the newest `limit` timestamps matter: the block ends when the oldest of them expires.
        failures = self._failures.get(source) or deque(maxlen=self.limit)
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        return failures


def source_of(request: Request) -> str:
    """The address the request came from (API Gateway's source IP under Mangum)."""
    return request.client.host if request.client else UNKNOWN_SOURCE


def get_auth_limiter(request: Request) -> FailedAuthLimiter:
    """The app's limiter, created by `create_app`."""
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    return limiter


AuthLimiterDep = Annotated[FailedAuthLimiter, Depends(get_auth_limiter)]


async def handle_auth_blocked(request: Request, exc: Exception) -> JSONResponse:
    """429 in the protocol's error body, with `Retry-After`."""
    assert isinstance(exc, AuthBlockedError)
    headers = {"Retry-After": str(exc.retry_after)}
    return error_response(request, exc.status_code, exc.code, exc.message, exc.details, headers=headers)
