"""Per-job state rows and run history."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tarroitus.models import JobRun, JobState


def get_or_create(session: Session, *, job_name: str) -> JobState:
    """The job's state row, created on first use."""
    session.execute(insert(JobState).values(job_name=job_name).on_conflict_do_nothing(index_elements=["job_name"]))
    return session.scalars(select(JobState).where(JobState.job_name == job_name)).one()


def lock(session: Session, *, job_name: str) -> JobState:
    """The job's state row, locked FOR UPDATE until the transaction ends."""
    get_or_create(session, job_name=job_name)
    statement = select(JobState).where(JobState.job_name == job_name).with_for_update()
    return session.scalars(statement.execution_options(populate_existing=True)).one()


def list_states(session: Session) -> Sequence[JobState]:
    """Every job's state, by name."""
    return session.scalars(select(JobState).order_by(JobState.job_name)).all()


def try_acquire_lease(session: Session, *, job_name: str, owner: str, now: datetime, duration: timedelta) -> bool:
    """Take the job's lease unless another owner holds an unexpired one."""
    get_or_create(session, job_name=job_name)
    taken = session.execute(
        update(JobState)
        .where(JobState.job_name == job_name)
        .where(or_(JobState.lease_owner.is_(None), JobState.lease_owner == owner, JobState.lease_expires_at < now))
        .values(lease_owner=owner, lease_expires_at=now + duration)
        .returning(JobState.job_name)
    ).first()
    return taken is not None


def release_lease(session: Session, *, job_name: str, owner: str) -> None:
    """Give the lease back, if this owner still holds it."""
    session.execute(
        update(JobState)
        .where(JobState.job_name == job_name, JobState.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )


def add_run(session: Session, *, job_name: str, started_at: datetime) -> JobRun:
    """Record that a run started."""
    run = JobRun(job_name=job_name, started_at=started_at, outcome="running")
    session.add(run)
    session.execute(update(JobState).where(JobState.job_name == job_name).values(last_run_started_at=started_at))
    session.flush()
    return run


def finish_run(
    session: Session,
    *,
    run_id: int,
    job_name: str,
    finished_at: datetime,
    outcome: str,
    counts: dict[str, Any],
    error: str | None,
) -> None:
    """Record a run's end on the run row and on the job's state row."""
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(finished_at=finished_at, outcome=outcome, counts=counts, error=error)
    )
    session.execute(
        update(JobState)
        .where(JobState.job_name == job_name)
        .values(last_run_completed_at=finished_at, last_run_outcome=outcome, last_run_counts=counts, last_error=error)
    )


def list_recent_runs(session: Session, *, job_name: str | None = None, limit: int = 20) -> Sequence[JobRun]:
    """The newest runs first, of one job or all."""
    statement = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job_name is not None:
        statement = statement.where(JobRun.job_name == job_name)
    return session.scalars(statement).all()
