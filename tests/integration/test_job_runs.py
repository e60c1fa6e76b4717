"""Job run bookkeeping: leases exclude overlapping runs; outcomes and counts are recorded."""

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.jobs.lease import job_run
from tarroitus.models import JobRun, JobState


def test_job_run_records_counts_and_releases_the_lease(committed_db: Engine) -> None:
    # Given / When
    with job_run(committed_db, job_name="probe", lease_seconds=60) as run:
        assert run is not None
        run.add("items", 3)
        run.add("items")
    # Then
    with Session(committed_db) as session:
        state = session.get(JobState, "probe")
        runs = session.scalars(select(JobRun)).all()
    assert state is not None
    assert (state.last_run_outcome, state.last_run_counts, state.lease_owner) == ("succeeded", {"items": 4}, None)
    assert [(r.outcome, r.counts) for r in runs] == [("succeeded", {"items": 4})]


def test_job_run_overlapping_run_gets_none(committed_db: Engine) -> None:
    # Given
    with job_run(committed_db, job_name="probe", lease_seconds=60) as first:
        # When
        with job_run(committed_db, job_name="probe", lease_seconds=60) as second:
            # Then
            assert first is not None
            assert second is None
    with job_run(committed_db, job_name="probe", lease_seconds=60) as third:
        assert third is not None


def test_job_run_failure_is_recorded_and_reraised(committed_db: Engine) -> None:
    # Given / When
    with pytest.raises(RuntimeError), job_run(committed_db, job_name="probe", lease_seconds=60):
        raise RuntimeError("boom")
    # Then
    with Session(committed_db) as session:
        state = session.get(JobState, "probe")
    assert state is not None
    assert (state.last_run_outcome, state.last_error, state.lease_owner) == ("failed", "RuntimeError: boom", None)
