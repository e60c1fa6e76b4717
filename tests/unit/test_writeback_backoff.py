"""Retry delays: doubling from the base with each failed attempt, capped at an hour."""

from datetime import timedelta

import pytest

from tarroitus.services.writeback.queue import MAX_BACKOFF_SECONDS, retry_delay


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 30), (2, 60), (3, 120), (7, 1920), (8, MAX_BACKOFF_SECONDS), (100, MAX_BACKOFF_SECONDS)],
)
def test_retry_delay_doubles_per_attempt_up_to_the_cap(attempts: int, seconds: float) -> None:
    # Given a 30 s base / When / Then
    assert retry_delay(attempts, base_seconds=30) == timedelta(seconds=seconds)


def test_retry_delay_with_a_zero_base_retries_at_once() -> None:
    # Given / When / Then
    assert retry_delay(5, base_seconds=0) == timedelta(0)
    assert retry_delay(0, base_seconds=10) == timedelta(seconds=10)
