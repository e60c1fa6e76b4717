"""An adaptive cap on concurrent Sierra requests: halved when Sierra shows strain, regained one step at a time.

Real Sierra servers mostly answer more parallel requests with more timeouts, so the writeback keeps to one or
two at a time. A timeout or a 503 halves the cap (down to one); each run of `limit` answers without strain in
a row raises it by one, up to `maximum` (additive increase, multiplicative decrease).
"""

import logging
import threading

logger = logging.getLogger(__name__)


class AdaptiveLimit:
    """At most `limit` requests at once (thread-safe); `lowest` is the smallest cap it came down to."""

    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError("the concurrency cap must be at least 1")
        self.maximum = maximum
        self.limit = maximum
        self.lowest = maximum
        self._in_flight = 0
        self._calm = 0
        self._condition = threading.Condition()

    def acquire(self) -> None:
        """Wait for a free slot under the current cap."""
        with self._condition:
            while self._in_flight >= self.limit:
                self._condition.wait()
            self._in_flight += 1

    def release(self, *, strained: bool) -> None:
        """Free a slot; `strained` when the request timed out or Sierra answered 503."""
        with self._condition:
            self._in_flight -= 1
            if strained:
                self._calm = 0
                if self.limit > 1:
                    self.limit = max(1, self.limit // 2)
                    self.lowest = min(self.lowest, self.limit)
                    logger.warning("Sierra is under strain: at most %d concurrent requests now", self.limit)
            else:
                self._calm += 1
                if self._calm >= self.limit and self.limit < self.maximum:
                    self._calm = 0
                    self.limit += 1
            self._condition.notify_all()
