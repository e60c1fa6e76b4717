"""Request and response schemas of the status routes."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tarroitus.api.client_schemas import ClientPublic
from tarroitus.domain import SyncMode
from tarroitus.services.status import BackendStatus, JobStatus


class HeartbeatCreate(BaseModel):
    """What a client reports about itself; omitted fields keep their stored values."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    client_version: str | None = Field(default=None, max_length=64, examples=["2.4.1"])
    host_name: str | None = Field(default=None, max_length=255, examples=["pasila-ws-03"])
    printer_state: str | None = Field(default=None, max_length=255, examples=["ready"])


class JobRunPublic(BaseModel):
    """One run of a scheduled job."""

    model_config = ConfigDict(from_attributes=True)

    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, Any] | None = Field(description="What the run counted (items written, skipped...)")
    error: str | None


class JobStatusPublic(BaseModel):
    """A scheduled job: its mode and cursors (sync), its last run, and its newest runs."""

    job_name: str
    mode: SyncMode | None
    full_sync_cursor: int | None
    full_sync_completed_at: datetime | None
    changes_since: datetime | None
    last_run_started_at: datetime | None
    last_run_completed_at: datetime | None
    last_run_outcome: str | None
    last_error: str | None
    recent_runs: list[JobRunPublic]

    @classmethod
    def of(cls, job: JobStatus) -> "JobStatusPublic":
        """The public view of a job (all state fields null before its first run)."""
        state = job.state
        return cls(
            job_name=job.job_name,
            mode=state.mode if state else None,
            full_sync_cursor=state.full_sync_cursor if state else None,
            full_sync_completed_at=state.full_sync_completed_at if state else None,
            changes_since=state.changes_since if state else None,
            last_run_started_at=state.last_run_started_at if state else None,
            last_run_completed_at=state.last_run_completed_at if state else None,
            last_run_outcome=state.last_run_outcome if state else None,
            last_error=state.last_error if state else None,
            recent_runs=[JobRunPublic.model_validate(run) for run in job.recent_runs],
        )


class ItemProgressPublic(BaseModel):
    """Relabelling progress: items not deleted, and writeback outcomes."""

    model_config = ConfigDict(from_attributes=True)

    total: int
    with_classification: int
    printed: int
    reprint_needed: int = Field(description="Printed items whose label is outdated (classification or signum changed)")
    written_back: int
    writeback_failed: int = Field(description="Items whose writeback is dead-lettered")


class QueueStatusPublic(BaseModel):
    """The writeback queue: entries waiting or being written, and how long the oldest has waited."""

    model_config = ConfigDict(from_attributes=True)

    depth: int
    queued: int
    in_progress: int
    oldest_queued_at: datetime | None
    oldest_age_seconds: float | None


class StatusPublic(BaseModel):
    """The backend state."""

    server_time: datetime
    sync_mode: SyncMode | None
    jobs: list[JobStatusPublic]
    items: ItemProgressPublic
    writeback_queue: QueueStatusPublic
    clients: list[ClientPublic]

    @classmethod
    def of(cls, status: BackendStatus) -> "StatusPublic":
        """The public view of the backend state."""
        return cls(
            server_time=status.server_time,
            sync_mode=status.sync_mode,
            jobs=[JobStatusPublic.of(job) for job in status.jobs],
            items=ItemProgressPublic.model_validate(status.items),
            writeback_queue=QueueStatusPublic.model_validate(status.writeback_queue),
            clients=[ClientPublic.of(client) for client in status.clients],
        )
