"""The failed-authentication limiter: sliding window per source, bounded memory."""

import pytest

from tarroitus.api.auth_limit import AuthBlockedError, FailedAuthLimiter


class FakeClock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_blocks_a_source_after_limit_failures_within_the_window() -> None:
    # Given
    clock = FakeClock()
    limiter = FailedAuthLimiter(limit=3, window_seconds=60, clock=clock)
    for _ in range(2):
        limiter.record_failure("192.0.2.1")
        clock.now += 1
    limiter.check("192.0.2.1")
    # When
    limiter.record_failure("192.0.2.1")
    # Then
    with pytest.raises(AuthBlockedError) as blocked:
        limiter.check("192.0.2.1")
    assert blocked.value.status_code == 429
    # The oldest failure (t=1000) leaves the window at t=1060; now is t=1002.
    assert blocked.value.retry_after == 58
    limiter.check("192.0.2.2")


def test_limiter_releases_the_source_when_the_oldest_failure_leaves_the_window() -> None:
    # Given
    clock = FakeClock()
    limiter = FailedAuthLimiter(limit=2, window_seconds=10, clock=clock)
    limiter.record_failure("192.0.2.1")
    clock.now += 5
    limiter.record_failure("192.0.2.1")
    # When
    clock.now += 5
    # Then: the first failure is now exactly 10 s old and no longer counts
    limiter.check("192.0.2.1")
    limiter.record_failure("192.0.2.1")
    with pytest.raises(AuthBlockedError):
        limiter.check("192.0.2.1")


def test_limiter_forgets_the_least_recently_failing_sources_beyond_its_capacity() -> None:
    # Given
    limiter = FailedAuthLimiter(limit=1, window_seconds=60, clock=FakeClock(), max_sources=2)
    limiter.record_failure("a")
    limiter.record_failure("b")
    # When
    limiter.record_failure("c")
    # Then
    limiter.check("a")
    for blocked_source in ("b", "c"):
        with pytest.raises(AuthBlockedError):
            limiter.check(blocked_source)


def test_limiter_retry_after_is_at_least_one_second() -> None:
    # Given
    clock = FakeClock()
    limiter = FailedAuthLimiter(limit=1, window_seconds=1, clock=clock)
    limiter.record_failure("a")
    clock.now += 0.9999
    # When / Then
    with pytest.raises(AuthBlockedError) as blocked:
        limiter.check("a")
    assert blocked.value.retry_after == 1
