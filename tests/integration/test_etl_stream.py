"""Streaming a table out of PostgreSQL in key-range batches, read by a background thread."""

import threading
from datetime import timedelta

import polars as pl
from polars.testing import assert_frame_equal
from sqlalchemy import text
from sqlalchemy.orm import Session

from tarroitus.services.etl.export import day_window, stream_frames
from tests import analytics_data
from tests.integration.etl_support import expected_frame


def test_stream_frames_splits_a_table_into_batches_in_key_order(db_session: Session) -> None:
    # Given 24 items: an exact multiple of the batch size, so the last range is empty
    analytics_data.seed(db_session, items=24)
    # When
    frames = list(stream_frames(db_session, table="items", batch_rows=6))
    # Then
    assert [frame.height for frame in frames] == [6, 6, 6, 6]
    assert_frame_equal(pl.concat(frames), expected_frame(db_session, "items"))


def test_stream_frames_reads_only_the_event_window(db_session: Session) -> None:
    # Given
    data = analytics_data.seed(db_session)
    day = analytics_data.FIRST_DAY.date() + timedelta(days=1)
    expected = sorted(event.id for event in data.events if event.printed_at.date() == day)
    # When
    frames = list(stream_frames(db_session, table="label_events", batch_rows=4, window=day_window(day)))
    # Then
    assert pl.concat(frames)["id"].to_list() == expected
    assert all(frame.height <= 4 for frame in frames)


def test_stream_frames_closed_early_stops_its_reader(db_session: Session) -> None:
    # Given
    analytics_data.seed(db_session, items=30)
    frames = stream_frames(db_session, table="items", batch_rows=3)
    # When
    first = next(frames)
    frames.close()
    # Then
    assert first.height == 3
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("etl-copy-")]
    assert db_session.execute(text("SELECT count(*) FROM items")).scalar_one() == 30
