"""Changes windows and time budgets."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from tarroitus.deadlines import Deadline
from tarroitus.services.sync.changes import change_windows
from tarroitus.services.sync.pages import BudgetExhaustedError, PagePacer

SINCE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_change_windows_start_a_lookback_before_the_watermark_and_cover_until() -> None:
    # Given / When
    windows = change_windows(SINCE, SINCE + timedelta(days=2), lookback=timedelta(minutes=5), window=timedelta(days=1))
    # Then
    assert windows[0][0] == SINCE - timedelta(minutes=5)
    assert windows[-1][1] == SINCE + timedelta(days=2)
    assert all(earlier[1] == later[0] for earlier, later in pairwise(windows))
    assert all(end - start <= timedelta(days=1) for start, end in windows)
    assert change_windows(SINCE, SINCE - timedelta(hours=1), lookback=timedelta(0), window=timedelta(days=1)) == []


def test_deadline_keeps_its_margin() -> None:
    # Given
    now = [100.0]
    deadline = Deadline.after(60, margin_seconds=10, clock=lambda: now[0])
    # When / Then
    assert deadline.allows(49)
    assert not deadline.allows(50)
    now[0] = 200.0
    assert deadline.remaining() == 0.0
    assert not deadline.allows(0)


def test_page_pacer_expects_the_slowest_recent_page() -> None:
    # Given
    clock = [0.0]
    asked: list[float] = []

    class RecordingBudget:
        def allows(self, seconds: float) -> bool:
            asked.append(seconds)
            return len(asked) < 3

    pacer = PagePacer(RecordingBudget(), clock=lambda: clock[0])

    def page(duration: float) -> None:
        clock[0] += duration

    # When
    pacer.timed(lambda: page(2.0))
    pacer.timed(lambda: page(1.0))
    with pytest.raises(BudgetExhaustedError):
        pacer.timed(lambda: page(1.0))
    # Then
    assert asked == [0.0, 3.0, 3.0]
    assert clock[0] == 3.0
