"""Whether a sync run may be started on demand: not while another run holds the job's lease."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tarroitus.domain import SYNC_JOB_NAME
from tarroitus.errors import ConflictError
from tarroitus.models import JobState


def ensure_no_sync_running(session: Session) -> None:
    """409 `sync_running` while a run holds the lease."""
    # Read only: a row this transaction wrote would stay locked until the response, and an in-process
    # run scheduled as a background task of the same request would wait for it forever.
    state = session.get(JobState, SYNC_JOB_NAME)
    if (
        state is not None
        and state.lease_owner
        and state.lease_expires_at
        and state.lease_expires_at > datetime.now(UTC)
    ):
        raise ConflictError("A sync run is in progress; try again when it has finished", code="sync_running")
