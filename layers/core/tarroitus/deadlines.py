"""Time budgets: a job must stop cleanly before its Lambda times out, a GraphQL request within its budget."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, Self


class Budget(Protocol):
    """Decides whether a step expected to take `seconds` may still start."""

    def allows(self, seconds: float) -> bool:
        """True when a step of about `seconds` fits in what is left."""
        ...


@dataclass
class Deadline:
    """A budget ending at a moment of a monotonic clock, minus a safety margin kept for cleanup."""

    at: float
    margin_seconds: float = 0.0
    clock: Callable[[], float] = field(default=time.monotonic)

    @classmethod
    def after(cls, seconds: float, *, margin_seconds: float = 0.0, clock: Callable[[], float] = time.monotonic) -> Self:
        """A deadline `seconds` from now."""
        return cls(at=clock() + seconds, margin_seconds=margin_seconds, clock=clock)

    @classmethod
    def from_lambda_remaining(cls, remaining_millis: int, *, margin_seconds: float = 0.0) -> Self:
        """The deadline of a Lambda invocation (`context.get_remaining_time_in_millis()`)."""
        return cls.after(remaining_millis / 1000.0, margin_seconds=margin_seconds)

    def less(self, seconds: float) -> Self:
        """The same deadline with `seconds` more kept back before it."""
        return type(self)(at=self.at, margin_seconds=self.margin_seconds + seconds, clock=self.clock)

    def remaining(self) -> float:
        """Seconds left before the margin starts (never negative)."""
        return max(0.0, self.at - self.margin_seconds - self.clock())

    def allows(self, seconds: float) -> bool:
        """True when a step of about `seconds` ends before the margin starts."""
        return self.remaining() > seconds
