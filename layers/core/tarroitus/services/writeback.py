"""Writeback of labelled items' new call numbers to Sierra: the queue worker, its operator view and retry.

A run claims due rows in batches (SKIP LOCKED, committed before any HTTP; the next batch is claimed
while the current one finishes) and writes the items from a thread pool of `sierra_api_client_pool_size`
workers over one `SierraClient` (one token). Each worker GETs its item, plans the minimal PUT
(:mod:`tarroitus.services.writeback_plan`) and PUTs it, or records it as already done. Workers do HTTP
only; the calling thread records the outcomes as they arrive, one transaction per wake-up (all outcomes
that arrived together), through one database connection: a Lambda's pool stays at one connection for the
queue, and no two threads ever share a session. There are exactly as many workers as the client has
connections: httpx's sync pool shared by more threads than it has connections was seen to fail requests
with spurious ReadError/ReadTimeout.

Failures: 409, 429, 5xx, 401/403, timeouts and unexpected errors are retried with exponential backoff
(`sierra_update_backoff_base_seconds * 2 ** (attempts - 1)`, capped at :data:`MAX_BACKOFF_SECONDS`) until
`sierra_update_max_attempts`, then dead-lettered; 400 and the other 4xx (and a deleted item) are
dead-lettered at once. A PUT whose answer is lost (or a 5xx) may still have landed: the item is read again
at once, and the attempt counts as written when Sierra holds the write. Every attempt leaves a
`writeback_attempts` row.

The items' updatedDate after the PUT (Sierra answers 204 without a body) is read back with one
`GET /items?id=...&fields=id,updatedDate` per `sierra_update_batch_size_limit` items written, and stored in
`writeback_queue.sierra_updated_at`. The changes sync may treat an item whose Sierra updatedDate is not
later than that value as the project's own write. An item found already done stores the updatedDate of
the GET that found it so.
"""

import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.db import session_scope
from tarroitus.errors import InvalidInputError
from tarroitus.models import WritebackAttempt, WritebackEntry
from tarroitus.repositories import job_state
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.writeback import ClaimedEntry
from tarroitus.services.job_names import WRITEBACK_JOB_NAME
from tarroitus.services.writeback_plan import WritebackOptions, plan_writeback
from tarroitus.settings import Settings
from tarroitus.sierra import SierraAuthError, SierraError, SierraUnavailableError

if TYPE_CHECKING:
    # Imported by the run, not by the API's status and retry routes (it loads httpx).
    from tarroitus.sierra import SierraClient

logger = Logger(child=True)
tracer = Tracer(auto_patch=False)

OUTCOME_WRITTEN = "written"
OUTCOME_SKIPPED_AS_DONE = "skipped_as_done"
OUTCOME_RETRYING = "failed_retrying"
OUTCOME_DEAD_LETTERED = "dead_lettered"
OUTCOME_CLAIM_EXPIRED = "claim_expired"
FAILURE_OUTCOMES = (OUTCOME_RETRYING, OUTCOME_DEAD_LETTERED, OUTCOME_CLAIM_EXPIRED)
_FAILED = "failed"
_NOT_STARTED = "not_started"

MAX_RETRY_IDS = 10_000
MAX_BACKOFF_SECONDS = 3600.0
ITEM_READ_FIELDS = "id,updatedDate,deleted,fixedFields,varFields"
#: 4xx statuses worth retrying; every other 4xx means the request itself is wrong.
RETRYABLE_CLIENT_STATUSES = frozenset({401, 403, 408, 409, 423, 425, 429})
MAX_ERROR_LENGTH = 2000


class UnwritableItemError(Exception):
    """The item cannot be written whatever the retries: deleted in Sierra, or nothing to write."""


@dataclass
class WritebackRunCounts:
    """What one run did, by outcome."""

    claimed: int = 0
    written: int = 0
    skipped_as_done: int = 0
    retried: int = 0
    dead_lettered: int = 0
    released: int = 0
    claims_expired: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return asdict(self)


@dataclass(frozen=True)
class _Result:
    """What a worker did with one item: an outcome, or the error that stopped it."""

    entry: ClaimedEntry
    outcome: str
    started_at: datetime
    duration_ms: int
    sierra_updated_at: datetime | None = None
    error: Exception | None = None


@dataclass(frozen=True)
class _Failure:
    retryable: bool
    http_status: int | None
    sierra_code: int | None
    message: str


@dataclass
class _Run:
    engine: Engine
    sierra: "SierraClient"
    settings: Settings
    owner: str
    stop_at: float
    counts: WritebackRunCounts
    options: WritebackOptions
    halted: threading.Event = field(default_factory=threading.Event)
    halt_error: SierraAuthError | None = None


@dataclass(frozen=True)
class LastRun:
    """The newest writeback run (still running when `completed_at` is None)."""

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
    runs = job_state.list_recent_runs(session, job_name=WRITEBACK_JOB_NAME, limit=1)
    if not runs:
        return None
    run = runs[0]
    counts = {name: int(value) for name, value in (run.counts or {}).items()}
    return LastRun(
        started_at=run.started_at, completed_at=run.finished_at, outcome=run.outcome, counts=counts, error=run.error
    )


def retry_delay(attempts: int, *, base_seconds: float) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: doubling from `base_seconds`, capped."""
    exponent = min(max(attempts - 1, 0), 32)
    return timedelta(seconds=min(base_seconds * 2**exponent, MAX_BACKOFF_SECONDS))


@tracer.capture_method(capture_response=False)
def write_back_queue(
    engine: Engine,
    sierra: "SierraClient",
    *,
    settings: Settings,
    owner: str,
    stop_at: float,
    counts: WritebackRunCounts | None = None,
) -> WritebackRunCounts:
    """Write queued items back to Sierra, batch by batch, until nothing is due or `stop_at` (monotonic) passes.

    Items claimed but not started by `stop_at` are released. Raises `SierraAuthError` (after recording every
    outcome and releasing the rest) when Sierra refuses the credentials, since no item could be written.
    """
    run = _Run(
        engine=engine,
        sierra=sierra,
        settings=settings,
        owner=owner,
        stop_at=stop_at,
        counts=counts if counts is not None else WritebackRunCounts(),
        options=WritebackOptions.from_settings(settings),
    )
    with ThreadPoolExecutor(max_workers=settings.sierra_api_client_pool_size, thread_name_prefix="writeback") as pool:
        try:
            _work(run, pool)
        except BaseException:
            # Outcomes cannot be recorded (database gone): start nothing more. Items already written stay
            # claimed, and the run that takes them over after the visibility timeout finds them done.
            run.halted.set()
            raise
    logger.info("Writeback queue worked", extra={"owner": owner, **run.counts.as_dict()})
    if run.halt_error is not None:
        raise run.halt_error
    return run.counts


def _claim(run: _Run) -> list[ClaimedEntry]:
    """Claim one batch and commit; take over abandoned claims, dead-lettering those out of attempts."""
    now = _utcnow()
    max_attempts = run.settings.sierra_update_max_attempts
    with session_scope(run.engine) as session:
        claimed = queue.claim_batch(
            session, owner=run.owner, now=now, limit=run.settings.sierra_update_batch_size_limit
        )
        workable: list[ClaimedEntry] = []
        for entry in claimed:
            if entry.reclaimed_from is None:
                workable.append(entry)
                continue
            run.counts.claims_expired += 1
            message = f"The claim of run {entry.reclaimed_from} expired without an outcome"
            queue.add_attempt(
                session,
                item_record_id=entry.item_record_id,
                attempted_at=now,
                outcome=OUTCOME_CLAIM_EXPIRED,
                classification=entry.classification,
                error=message,
            )
            if entry.attempts <= max_attempts:
                workable.append(entry)
                continue
            run.counts.dead_lettered += 1
            queue.dead_letter(
                session,
                item_record_id=entry.item_record_id,
                owner=run.owner,
                now=now,
                error_code=None,
                error=f"{message}; {max_attempts} attempts used",
            )
    run.counts.claimed += len(claimed)
    run.counts.batches += 1 if claimed else 0
    return workable


def _work(run: _Run, pool: ThreadPoolExecutor) -> None:
    """Keep the workers fed: the next batch is claimed while the current one still runs, so that no batch
    waits for its slowest item; outcomes are recorded as they arrive."""
    workers = run.settings.sierra_api_client_pool_size
    pending: set[Future[_Result]] = set()
    written: list[int] = []
    may_claim = True
    while True:
        if may_claim and len(pending) < 2 * workers and _may_start(run):
            claimed = _claim(run)
            pending.update(pool.submit(_write_item, run, entry) for entry in claimed)
            # After an empty claim only a retry recorded since can make more work due within this run.
            may_claim = bool(claimed)
        if not pending:
            break
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        results = [future.result() for future in finished]
        retried = run.counts.retried
        _record(run, [result for result in results if result.outcome != _NOT_STARTED])
        _release(run, [result.entry.item_record_id for result in results if result.outcome == _NOT_STARTED])
        may_claim = may_claim or run.counts.retried > retried
        written.extend(result.entry.item_record_id for result in results if result.outcome == OUTCOME_WRITTEN)
        if len(written) >= run.settings.sierra_update_batch_size_limit:
            _read_back_updated_dates(run, written)
            written = []
    _read_back_updated_dates(run, written)


def _may_start(run: _Run) -> bool:
    return not run.halted.is_set() and time.monotonic() < run.stop_at


def _release(run: _Run, item_record_ids: Sequence[int]) -> None:
    """Give back claimed items that were not started (time budget, or the run halted)."""
    if item_record_ids:
        with session_scope(run.engine) as session:
            run.counts.released += queue.release_claims(session, owner=run.owner, item_record_ids=item_record_ids)


def _write_item(run: _Run, entry: ClaimedEntry) -> _Result:
    """Write one item (worker thread, HTTP only), unless the time is up or the run halted."""
    started_at = _utcnow()
    if not _may_start(run):
        return _Result(entry, _NOT_STARTED, started_at, 0)
    began = time.monotonic()
    try:
        outcome, sierra_updated_at = _write(run, entry)
    except Exception as exc:  # every failure is recorded against its item, so none is lost
        if isinstance(exc, SierraAuthError):
            run.halted.set()
        return _Result(entry, _FAILED, started_at, _elapsed_ms(began), error=exc)
    return _Result(entry, outcome, started_at, _elapsed_ms(began), sierra_updated_at=sierra_updated_at)


def _write(run: _Run, entry: ClaimedEntry) -> tuple[str, datetime | None]:
    """GET the item, plan, PUT what changes; the outcome and (when skipped) the updatedDate read."""
    body, updated_at = _plan(run, entry)
    if body is None:
        return OUTCOME_SKIPPED_AS_DONE, updated_at
    try:
        run.sierra.update_item(entry.item_record_id, body)
    except SierraUnavailableError:
        # The answer was lost or a server error came back: the write may still have landed. Re-read the
        # item now, so that the outcome on record is what Sierra holds.
        if not _landed(run, entry):
            raise
    return OUTCOME_WRITTEN, None


def _plan(run: _Run, entry: ClaimedEntry) -> tuple[dict[str, Any] | None, datetime | None]:
    """The PUT body the item needs now (None when done) and its updatedDate."""
    item = run.sierra.get_item(entry.item_record_id, fields=ITEM_READ_FIELDS)
    if item.deleted:
        raise UnwritableItemError(f"Item {entry.item_record_id} is deleted in Sierra")
    if not entry.classification.strip():
        raise UnwritableItemError("The queued classification is empty")
    body = plan_writeback(
        item.model_dump(by_alias=True, exclude_none=True, mode="json"),
        classification=entry.classification,
        options=run.options,
        now=_utcnow(),
        queued_at=entry.queued_at,
    )
    return body, item.updated_date


def _landed(run: _Run, entry: ClaimedEntry) -> bool:
    try:
        body, _ = _plan(run, entry)
    except SierraError:
        return False
    return body is None


def _elapsed_ms(began: float) -> int:
    return int((time.monotonic() - began) * 1000)


def _record(run: _Run, results: Sequence[_Result]) -> None:
    """Store the outcomes that arrived together in one short transaction."""
    if not results:
        return
    now = _utcnow()
    with session_scope(run.engine) as session:
        for result in results:
            if result.error is not None:
                _record_failure(run, session, result, result.error, now)
            else:
                _record_success(run, session, result, now)


def _record_success(run: _Run, session: Session, result: _Result, now: datetime) -> None:
    entry = result.entry
    queue.add_attempt(
        session,
        item_record_id=entry.item_record_id,
        attempted_at=result.started_at,
        outcome=result.outcome,
        classification=entry.classification,
        duration_ms=result.duration_ms,
    )
    queue.mark_done(
        session,
        item_record_id=entry.item_record_id,
        owner=run.owner,
        now=now,
        sierra_updated_at=result.sierra_updated_at,
    )
    if result.outcome == OUTCOME_WRITTEN:
        run.counts.written += 1
    else:
        run.counts.skipped_as_done += 1


def _record_failure(run: _Run, session: Session, result: _Result, error: Exception, now: datetime) -> None:
    entry = result.entry
    failure = _describe_failure(error)
    if isinstance(error, SierraAuthError) and run.halt_error is None:
        run.halt_error = error
    if not isinstance(error, SierraError | UnwritableItemError):
        logger.error("Unexpected error writing an item back", exc_info=error, extra={"item": entry.item_record_id})
    dead = not failure.retryable or entry.attempts >= run.settings.sierra_update_max_attempts
    queue.add_attempt(
        session,
        item_record_id=entry.item_record_id,
        attempted_at=result.started_at,
        outcome=OUTCOME_DEAD_LETTERED if dead else OUTCOME_RETRYING,
        classification=entry.classification,
        http_status=failure.http_status,
        sierra_code=failure.sierra_code,
        error=failure.message,
        duration_ms=result.duration_ms,
    )
    if dead:
        run.counts.dead_lettered += 1
        queue.dead_letter(
            session,
            item_record_id=entry.item_record_id,
            owner=run.owner,
            now=now,
            error_code=failure.sierra_code,
            error=failure.message,
        )
        logger.warning("Writeback dead-lettered", extra={"item": entry.item_record_id, "error": failure.message})
        return
    run.counts.retried += 1
    delay = retry_delay(entry.attempts, base_seconds=run.settings.sierra_update_backoff_base_seconds)
    queue.schedule_retry(
        session,
        item_record_id=entry.item_record_id,
        owner=run.owner,
        next_attempt_at=now + delay,
        error_code=failure.sierra_code,
        error=failure.message,
    )


def _describe_failure(error: Exception) -> _Failure:
    if isinstance(error, SierraError):
        status = error.http_status or None
        retryable = status is None or status >= 500 or status in RETRYABLE_CLIENT_STATUSES
        return _Failure(retryable, status, error.code or None, str(error)[:MAX_ERROR_LENGTH])
    message = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
    return _Failure(not isinstance(error, UnwritableItemError), None, None, message)


def _read_back_updated_dates(run: _Run, item_ids: Iterable[int]) -> None:
    """Store the updatedDate Sierra now has for the items written (one list request per batch)."""
    ids = sorted(item_ids)
    if not ids:
        return
    try:
        page = run.sierra.list_items(ids=ids, fields="id,updatedDate")
    except SierraError as exc:
        # The writes are recorded already; without the dates the sync sees them as outside changes.
        logger.warning("Could not read back updatedDate after writing", extra={"items": len(ids), "error": str(exc)})
        return
    updated = {item.int_id: item.updated_date for item in page.entries if item.updated_date is not None}
    with session_scope(run.engine) as session:
        queue.record_sierra_updated_at(session, updated=updated)


def _utcnow() -> datetime:
    return datetime.now(UTC)
