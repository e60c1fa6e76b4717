"""The failed-authentication limiter: sliding windows per key and per source, bounded memory."""

import pytest

from tarroitus.api.auth_limit import KEY_BLOCKED, SOURCE_BLOCKED, AuthBlockedError, FailedAuthLimiter


class FakeClock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_blocks_a_source_after_limit_different_failing_keys_within_the_window() -> None:
    # Given
    clock = FakeClock()
    limiter = FailedAuthLimiter(limit=3, window_seconds=60, clock=clock)
    for guess in ("guess-1", "guess-2", "guess-3"):
        limiter.refuse_failure("192.0.2.1", guess)
        clock.now += 1
    # When
    with pytest.raises(AuthBlockedError) as blocked:
        limiter.refuse_failure("192.0.2.1", "guess-4")
    # Then: the oldest failure (t=1000) leaves the window at t=1060; now is t=1003
    assert blocked.value.status_code == 429
    assert blocked.value.message == SOURCE_BLOCKED
    assert blocked.value.retry_after == 57
    limiter.refuse_failure("192.0.2.2", "guess-4")


def test_limiter_blocks_a_key_failing_limit_times_from_anywhere_and_not_its_source() -> None:
    # Given: a station left running with a revoked key, behind the same address as others
    clock = FakeClock()
    limiter = FailedAuthLimiter(limit=3, window_seconds=60, clock=clock)
    for _ in range(3):
        limiter.refuse_failure("192.0.2.1", "revoked-key")
        clock.now += 3
    # When / Then: that key is blocked, from its own address and from any other
    for source in ("192.0.2.1", "198.51.100.1"):
        with pytest.raises(AuthBlockedError) as blocked:
            limiter.refuse_failure(source, "revoked-key")
        assert blocked.value.message == KEY_BLOCKED
        assert blocked.value.retry_after == 51
    # and another failing key from the same address is not
    limiter.refuse_failure("192.0.2.1", "typo-key")


def test_limiter_refusals_past_the_limit_are_not_counted() -> None:
    # Given
    clock = FakeClock()
    limiter = FailedAuthLimiter(limit=2, window_seconds=10, clock=clock)
    limiter.refuse_failure("a", "key")
    limiter.refuse_failure("a", "key")
    for _ in range(5):
        clock.now += 1
        with pytest.raises(AuthBlockedError):
            limiter.refuse_failure("a", "key")
    # When: the two counted failures leave the window
    clock.now = 1010.0
    # Then
    limiter.refuse_failure("a", "key")


def test_limiter_releases_a_source_when_its_oldest_failure_leaves_the_window() -> None:
    # Given
    clock = FakeClock()
    limiter = FailedAuthLimiter(limit=2, window_seconds=10, clock=clock)
    limiter.refuse_failure("192.0.2.1", "guess-1")
    clock.now += 5
    limiter.refuse_failure("192.0.2.1", "guess-2")
    # When
    clock.now += 5
    # Then: the first failure is now exactly 10 s old and no longer counts
    limiter.refuse_failure("192.0.2.1", "guess-3")
    with pytest.raises(AuthBlockedError):
        limiter.refuse_failure("192.0.2.1", "guess-4")


def test_limiter_forgets_the_least_recently_failing_sources_and_keys_beyond_its_capacity() -> None:
    # Given
    limiter = FailedAuthLimiter(limit=1, window_seconds=60, clock=FakeClock(), max_tracked=2)
    limiter.refuse_failure("a", "key-a")
    limiter.refuse_failure("b", "key-b")
    # When
    limiter.refuse_failure("c", "key-c")
    # Then: "b" and "c" are still blocked; "a" and its key are forgotten
    for source in ("b", "c"):
        with pytest.raises(AuthBlockedError):
            limiter.refuse_failure(source, "another-key")
    limiter.refuse_failure("a", "key-a")


def test_limiter_retry_after_is_at_least_one_second() -> None:
    # Given
    clock = FakeClock()
    limiter = FailedAuthLimiter(limit=1, window_seconds=1, clock=clock)
    limiter.refuse_failure("a", "key")
    clock.now += 0.9999
    # When / Then
    with pytest.raises(AuthBlockedError) as blocked:
        limiter.refuse_failure("a", "key")
    assert blocked.value.retry_after == 1
