"""The window an uploaded sync timestamp (the changes watermark) must fall in."""

from datetime import UTC, datetime, timedelta

import pytest

from tarroitus.errors import BadRequestError
from tarroitus.services.sync.state import SYNC_TIMESTAMP_FLOOR, check_sync_timestamp

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "timestamp",
    [
        SYNC_TIMESTAMP_FLOOR,
        NOW - timedelta(days=3650),
        NOW + timedelta(seconds=300),
        datetime(2026, 11, 20, 8, 4),  # naive: read as UTC, four minutes ahead
    ],
)
def test_timestamps_inside_the_window_pass(timestamp: datetime) -> None:
    check_sync_timestamp(timestamp, now=NOW, max_future_seconds=300)


@pytest.mark.parametrize(
    "timestamp",
    [
        SYNC_TIMESTAMP_FLOOR - timedelta(microseconds=1),
        NOW + timedelta(seconds=301),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0),
    ],
)
def test_timestamps_outside_the_window_name_the_field(timestamp: datetime) -> None:
    with pytest.raises(BadRequestError) as raised:
        check_sync_timestamp(timestamp, now=NOW, max_future_seconds=300)
    assert raised.value.code == "invalid_timestamp"
    assert raised.value.message.startswith("timestamp ")
    assert raised.value.details[0]["field"] == "body.timestamp"


def test_the_allowance_is_the_setting() -> None:
    # Given: an hour ahead
    ahead = NOW + timedelta(hours=1)
    # Then: refused with five minutes allowed, accepted with two hours
    with pytest.raises(BadRequestError):
        check_sync_timestamp(ahead, now=NOW, max_future_seconds=300)
    check_sync_timestamp(ahead, now=NOW, max_future_seconds=7200)
