"""Writeback of labelled items' new call numbers to Sierra: the queue's operator view and retry."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger, Tracer
from sqlalchemy.orm import Session

from tarroitus.errors import InvalidInputError
from tarroitus.models import WritebackAttempt, WritebackEntry
from tarroitus.repositories import job_state
from tarroitus.repositories import writeback as queue

logger = Logger(child=True)
tracer = Tracer()

JOB_NAME = "sierra_writeback"

OUTCOME_WRITTEN = "written"
OUTCOME_SKIPPED_AS_DONE = "skipped_as_done"
OUTCOME_RETRYING = "failed_retrying"
OUTCOME_DEAD_LETTERED = "dead_lettered"
OUTCOME_CLAIM_EXPIRED = "claim_expired"
FAILURE_OUTCOMES = (OUTCOME_RETRYING, OUTCOME_DEAD_LETTERED, OUTCOME_CLAIM_EXPIRED)

MAX_RETRY_IDS = 10_000


@dataclass(frozen=True)
class LastRun:
    """The newest finished writeback run."""

    started_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    counts: dict[str, int]
    error: str | None


@dataclass(frozen=True)
class WritebackStatusReport:
    """The queue at a glance: depth, in flight, dead letters and the latest failures with Sierra's errors."""

    queued: int
    due: int
    waiting_retry: int
    in_progress: int
    done: int
    dead: int
    oldest_queued_at: datetime | None
    dead_letters: Sequence[WritebackEntry]
    recent_failures: Sequence[WritebackAttempt]
    last_run: LastRun | None


@dataclass(frozen=True)
class RetryResult:
    """Which dead-lettered items went back to the queue, and which asked-for ids were not dead-lettered."""

    requeued: list[int]
    not_dead: list[int]


@tracer.capture_method(capture_response=False)
def read_writeback_status(session: Session, *, now: datetime, limit: int = 50) -> WritebackStatusReport:
    """Queue depth, items in flight, dead letters and recent failures, newest first."""
    counts = queue.count_by_status(session, now=now)
    return WritebackStatusReport(
        queued=counts["queued"],
        due=counts["queued"] - counts["waiting_retry"],
        waiting_retry=counts["waiting_retry"],
        in_progress=counts["in_progress"],
        done=counts["done"],
        dead=counts["dead"],
        oldest_queued_at=queue.oldest_queued_at(session),
        dead_letters=queue.list_dead(session, limit=limit),
        recent_failures=queue.list_attempts(session, outcomes=FAILURE_OUTCOMES, limit=limit),
        last_run=_last_run(session),
    )


@tracer.capture_method(capture_response=False)
def retry_dead_letters(session: Session, *, now: datetime, item_record_ids: Sequence[int] | None) -> RetryResult:
    """Queue dead-lettered items again with a fresh attempt count: all of them (None) or the given ids."""
    if item_record_ids is not None and not item_record_ids:
        raise InvalidInputError("Name at least one item, or ask for all dead-lettered items")
    if item_record_ids is not None and len(item_record_ids) > MAX_RETRY_IDS:
        raise InvalidInputError(f"At most {MAX_RETRY_IDS} items per retry")
    requeued = queue.requeue_dead(session, now=now, item_record_ids=item_record_ids)
    wanted = sorted(set(item_record_ids or ()))
    not_dead = sorted(set(wanted) - set(requeued))
    logger.info("Dead-lettered writebacks re-queued", extra={"requeued": len(requeued), "not_dead": len(not_dead)})
    return RetryResult(requeued=requeued, not_dead=not_dead)


def _last_run(session: Session) -> LastRun | None:
    runs = job_state.list_recent_runs(session, job_name=JOB_NAME, limit=1)
    if not runs:
        return None
    run = runs[0]
    counts = {name: int(value) for name, value in (run.counts or {}).items()}
    return LastRun(
        started_at=run.started_at, completed_at=run.finished_at, outcome=run.outcome, counts=counts, error=run.error
    )
