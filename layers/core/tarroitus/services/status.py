"""Client heartbeats and the backend state: sync mode, job runs, item progress, the writeback queue, clients."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Tracer
from sqlalchemy.orm import Session

from tarroitus.domain import JOB_NAMES, SYNC_JOB_NAME, SyncMode
from tarroitus.models import Client, JobRun, JobState
from tarroitus.repositories import clients as clients_repository
from tarroitus.repositories import items as items_repository
from tarroitus.repositories import job_state as job_state_repository
from tarroitus.repositories import status as status_repository

tracer = Tracer(auto_patch=False)

RECENT_RUNS_PER_JOB = 5
LEGACY_SYNC_MODES = {SyncMode.FULL: "SYNC_FULL", SyncMode.CHANGES: "SYNC_CHANGES"}


@dataclass(frozen=True)
class Heartbeat:
    """What a client reports about itself; None leaves the stored value as it is."""

    client_version: str | None = None
    host_name: str | None = None
    ip_address: str | None = None
    printer_state: str | None = None


@dataclass(frozen=True)
class JobStatus:
    """One scheduled job: its state row (None before its first run) and its newest runs."""

    job_name: str
    state: JobState | None
    recent_runs: Sequence[JobRun]


@dataclass(frozen=True)
class ItemProgress:
    """Progress of the relabelling, over items that are not deleted (writeback figures over the queue)."""

    total: int
    with_classification: int
    printed: int
    reprint_needed: int
    written_back: int
    writeback_failed: int


@dataclass(frozen=True)
class QueueStatus:
    """Writeback queue depth (queued + in progress) and the age of its oldest entry."""

    depth: int
    queued: int
    in_progress: int
    oldest_queued_at: datetime | None
    oldest_age_seconds: float | None


@dataclass(frozen=True)
class BackendStatus:
    """Everything the status view shows."""

    server_time: datetime
    sync_mode: SyncMode | None
    jobs: list[JobStatus]
    items: ItemProgress
    writeback_queue: QueueStatus
    clients: Sequence[Client]


@tracer.capture_method(capture_response=False)
def record_heartbeat(session: Session, *, client: Client, heartbeat: Heartbeat, now: datetime | None = None) -> Client:
    """Mark the client as seen now and store what it reported."""
    client.last_seen_at = now or datetime.now(UTC)
    reported: dict[str, Any] = {
        "client_version": heartbeat.client_version,
        "host_name": heartbeat.host_name,
        "ip_address": heartbeat.ip_address,
        "printer_state": heartbeat.printer_state,
    }
    for name, value in reported.items():
        if value is not None:
            setattr(client, name, value)
    session.flush()
    return client


def _state_by_name(session: Session) -> dict[str, JobState]:
    return {state.job_name: state for state in job_state_repository.list_states(session)}


@tracer.capture_method(capture_response=False)
def read_backend_status(session: Session, *, now: datetime | None = None) -> BackendStatus:
    """The backend state for operators: sync mode, job runs, progress counts, queue and clients."""
    moment = now or datetime.now(UTC)
    states = _state_by_name(session)
    names = list(JOB_NAMES) + sorted(set(states) - set(JOB_NAMES))
    jobs = [
        JobStatus(
            job_name=name,
            state=states.get(name),
            recent_runs=job_state_repository.list_recent_runs(session, job_name=name, limit=RECENT_RUNS_PER_JOB),
        )
        for name in names
    ]
    counts = items_repository.count_items(session)
    queue = status_repository.summarise_writeback_queue(session)
    oldest = queue.oldest_pending_queued_at
    sync_state = states.get(SYNC_JOB_NAME)
    return BackendStatus(
        server_time=moment,
        sync_mode=sync_state.mode if sync_state else None,
        jobs=jobs,
        items=ItemProgress(
            total=counts.total,
            with_classification=counts.with_classification,
            printed=counts.printed,
            reprint_needed=counts.reprint_needed,
            written_back=queue.done,
            writeback_failed=queue.dead,
        ),
        writeback_queue=QueueStatus(
            depth=queue.queued + queue.in_progress,
            queued=queue.queued,
            in_progress=queue.in_progress,
            oldest_queued_at=oldest,
            oldest_age_seconds=None if oldest is None else max(0.0, (moment - oldest).total_seconds()),
        ),
        clients=clients_repository.list_clients(session),
    )


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


@tracer.capture_method(capture_response=False)
def report_legacy_status(session: Session, *, client: Client, host_name: str, ip_address: str) -> dict[str, str]:
    """The legacy `POST /status`: record the station's heartbeat and answer the sync job's state.

    Before the first sync there is no state row: the answer is SYNC_FULL (a new backend starts
    with a full sync) and empty timestamps.
    """
    record_heartbeat(session, client=client, heartbeat=Heartbeat(host_name=host_name, ip_address=ip_address))
    state = _state_by_name(session).get(SYNC_JOB_NAME)
    mode = state.mode if state and state.mode else SyncMode.FULL
    return {
        "full_sync_completed_at": _iso(state.full_sync_completed_at if state else None),
        "initialized_at": _iso(state.initialized_at if state else None),
        "last_sync_run_completed_at": _iso(state.last_run_completed_at if state else None),
        "sync_changes_since": _iso(state.changes_since if state else None),
        "sync_mode": LEGACY_SYNC_MODES[mode],
    }
