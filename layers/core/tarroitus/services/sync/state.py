"""The Sierra sync's state row: mode, full-sync cursor, changes watermark, and its transitions."""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from sqlalchemy.orm import Session

from tarroitus.domain import SYNC_JOB_NAME, SyncMode
from tarroitus.errors import BadRequestError
from tarroitus.models import JobRun, JobState
from tarroitus.repositories import job_state

logger = Logger(child=True)

SYNC_TIMESTAMP_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
"""The earliest watermark a sync agent may send: older changes are a full pass's work, not a changes window's."""


@dataclass(frozen=True)
class SyncStatus:
    """What the status views show about the sync: where it stands and how its last runs went."""

    mode: SyncMode
    full_sync_cursor: int
    full_sync_started_at: datetime | None
    full_sync_completed_at: datetime | None
    changes_since: datetime | None
    initialized_at: datetime
    last_run_started_at: datetime | None
    last_run_completed_at: datetime | None
    last_run_outcome: str | None
    last_run_counts: dict[str, Any] | None
    last_error: str | None
    recent_runs: Sequence[JobRun]


def read_sync_status(session: Session, *, runs: int = 10) -> SyncStatus:
    """The sync's state and its newest runs (a state row is created on first use)."""
    state = job_state.get_or_create(session, job_name=SYNC_JOB_NAME)
    derived: dict[str, Any] = {
        "mode": current_mode(state),
        "recent_runs": job_state.list_recent_runs(session, job_name=SYNC_JOB_NAME, limit=runs),
    }
    # Every other field is the state row's column of the same name.
    stored = {field.name: getattr(state, field.name) for field in fields(SyncStatus) if field.name not in derived}
    return SyncStatus(**stored, **derived)


def lock_sync_state(session: Session) -> JobState:
    """The sync's state row, locked until the transaction ends."""
    return job_state.lock(session, job_name=SYNC_JOB_NAME)


def current_mode(state: JobState) -> SyncMode:
    """The pass the sync runs next: a never-run sync starts with a full pass."""
    if state.mode is SyncMode.CHANGES and state.changes_since is not None:
        return SyncMode.CHANGES
    return SyncMode.FULL


def choose_mode(session: Session, *, requested: SyncMode | None) -> SyncMode:
    """The pass a run makes: the state's, except that a requested full pass restarts one in changes mode."""
    state = lock_sync_state(session)
    mode = current_mode(state)
    if requested is SyncMode.FULL and mode is SyncMode.CHANGES:
        restart_full_sync(state)
        return SyncMode.FULL
    if requested is SyncMode.CHANGES and mode is SyncMode.FULL:
        logger.warning("A changes pass was asked for, but the full pass has not completed; continuing it")
    return mode


def begin_full_sync(state: JobState, *, started_at: datetime) -> None:
    """Note the start of a full pass (only its first step sets the start, which becomes the watermark)."""
    state.mode = SyncMode.FULL
    if state.full_sync_started_at is None or state.full_sync_cursor == 0:
        state.full_sync_started_at = started_at


def restart_full_sync(state: JobState) -> None:
    """Start a new full pass from the first id; the next step records its start."""
    state.mode = SyncMode.FULL
    state.full_sync_cursor = 0
    state.full_sync_started_at = None


def complete_full_sync(state: JobState, *, completed_at: datetime) -> None:
    """Switch to changes mode; changes are read from the moment the full pass started."""
    state.mode = SyncMode.CHANGES
    state.full_sync_completed_at = completed_at
    state.changes_since = state.full_sync_started_at or completed_at


def check_sync_timestamp(timestamp: datetime, *, now: datetime, max_future_seconds: int) -> None:
    """400 naming the field unless `timestamp` (naive: UTC) lies between the floor and `now` plus the allowance.

    An upload's timestamp becomes the changes watermark: one far ahead would stop the changes sync
    until that date, one far back would make every run re-read years of changes.
    """
    moment = timestamp if timestamp.tzinfo is not None else timestamp.replace(tzinfo=UTC)
    if moment < SYNC_TIMESTAMP_FLOOR:
        problem = f"is before {SYNC_TIMESTAMP_FLOOR.date().isoformat()}"
    elif moment > now + timedelta(seconds=max_future_seconds):
        problem = f"is more than {max_future_seconds} seconds ahead of the server's clock ({now.isoformat()})"
    else:
        return
    message = f"timestamp {timestamp.isoformat()} {problem}"
    details = [{"field": "body.timestamp", "message": message, "type": "out_of_range"}]
    raise BadRequestError(message, code="invalid_timestamp", details=details)
