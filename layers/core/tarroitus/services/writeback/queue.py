"""Writeback of labelled items' new call numbers to Sierra: the queue worker, its operator view and retry.

A run claims due rows in batches (SKIP LOCKED, committed before any HTTP; the next batch is claimed
while the current one finishes) and writes the items from a thread pool of `sierra_update_concurrency`
workers (2 by default: real Sierra servers answer more parallel requests with more timeouts) over one
`SierraClient` (one token). Each worker GETs its item, plans the parts that must change
(:mod:`tarroitus.services.writeback.plan`: the call number, the inventory date, the internal-use field) and
PUTs them in one body, or records the item as already done. Workers do HTTP only; the calling thread
records the outcomes as they arrive, one transaction per wake-up (all outcomes that arrived together),
through one database connection: a Lambda's pool stays at one connection for the queue, and no two threads
ever share a session.

Refusals: when Sierra refuses the combined body (400), the parts are written one at a time, the call number
first, so that a refusal of the inventory date or the internal-use field never costs the call number. The
item is dead-lettered with the parts Sierra refused and its error; the parts it accepted are recorded as
written, and an operator's retry writes only what is still missing (the plan reads Sierra again). A refused
call number stops the item: it gets neither stamp without it.

Failures: 409, 429, 5xx, 401/403, timeouts and unexpected errors are retried with exponential backoff
(`sierra_update_backoff_base_seconds * 2 ** (attempts - 1)`, capped at :data:`MAX_BACKOFF_SECONDS`) until
`sierra_update_max_attempts`, then dead-lettered; the other 4xx (and a deleted item) are dead-lettered at
once. A PUT whose answer is lost (or a 5xx) may still have landed: the item is read again at once, and the
PUT counts as landed when Sierra holds its parts. Every attempt leaves a `writeback_attempts` row.

A maintenance window (`SierraMaintenanceError`: Sierra answered 503 `sierra_api_maintenance_threshold`
times in a row) stops the run: items in flight and not yet started go back to the queue without an attempt
counted, and the next scheduled run resumes.

The items' updatedDate after the PUT (Sierra answers 204 without a body) is read back with one
`GET /items?id=...&fields=id,updatedDate` per `sierra_update_batch_size_limit` items written, and stored in
`writeback_queue.sierra_updated_at`. The changes sync may treat an item whose Sierra updatedDate is not
later than that value as the project's own write. An item found already done stores the updatedDate of
the GET that found it so.
"""

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Tracer
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.domain import WRITEBACK_JOB_NAME
from tarroitus.error_reporting import report_message
from tarroitus.errors import InvalidInputError
from tarroitus.invocation_context import invocation_executor
from tarroitus.models import WritebackAttempt
from tarroitus.repositories import job_state
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.repositories.writeback import ClaimedEntry
from tarroitus.services.writeback.plan import (
    PART_CALL_NUMBER,
    WRITE_PARTS,
    WritebackOptions,
    WritebackPlan,
    plan_writeback,
)
from tarroitus.settings import Settings
from tarroitus.sierra import (
    SierraAuthError,
    SierraBadRequestError,
    SierraError,
    SierraMaintenanceError,
    SierraUnavailableError,
)

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
_REFUSED = "refused"
_NOT_STARTED = "not_started"
_PAUSED = "paused"

MAX_RETRY_IDS = 10_000
MAX_BACKOFF_SECONDS = 3600.0
ITEM_READ_FIELDS = "id,updatedDate,deleted,callNumber,fixedFields,varFields"
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
    paused: int = 0
    """1 when the run stopped for a maintenance window."""

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return asdict(self)


@dataclass(frozen=True)
class _Written:
    """What the PUTs of one attempt did: the parts they landed and those Sierra refused, with its errors."""

    outcome: str
    landed: tuple[str, ...] = ()
    held: tuple[str, ...] | None = None
    """Every part Sierra holds after the attempt (those in place before it too), when known."""
    refused: Mapping[str, SierraError] = field(default_factory=dict)
    sierra_updated_at: datetime | None = None


class _PartlyWrittenError(Exception):
    """A PUT failed after others of the same attempt landed."""

    def __init__(self, cause: Exception, landed: tuple[str, ...], held: tuple[str, ...]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.landed = landed
        self.held = held


@dataclass(frozen=True)
class _Result:
    """What a worker did with one item: an outcome, or the error that stopped it."""

    entry: ClaimedEntry
    outcome: str
    started_at: datetime
    duration_ms: int
    written: _Written | None = None
    error: Exception | None = None

    @property
    def landed(self) -> tuple[str, ...]:
        """The parts this attempt landed in Sierra."""
        return self.written.landed if self.written is not None else ()

    @property
    def held(self) -> tuple[str, ...] | None:
        """Every part Sierra holds after this attempt, when the attempt got to know."""
        return self.written.held if self.written is not None else None


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
    item_record_ids: Sequence[int] | None = None
    halted: threading.Event = field(default_factory=threading.Event)
    halt_error: SierraAuthError | None = None
    maintenance: SierraMaintenanceError | None = None


class LastRun(BaseModel):
    """The newest writeback run (still running when `completed_at` is None); the REST schema extends it."""

    model_config = ConfigDict(frozen=True)

    started_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    counts: dict[str, int]
    error: str | None


class QueueDepth(BaseModel):
    """The queue's rows by state; the REST schema of the queue's status extends it."""

    model_config = ConfigDict(frozen=True)

    queued: int
    due: int
    waiting_retry: int
    in_progress: int
    done: int
    dead: int
    oldest_queued_at: datetime | None


class WritebackStatusReport(QueueDepth):
    """The queue at a glance: depth, in flight, dead letters and the latest failures with Sierra's errors."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    dead_letters: Sequence[queue.DeadLetter]
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
    item_record_ids: Sequence[int] | None = None,
) -> WritebackRunCounts:
    """Write queued items back to Sierra, batch by batch, until nothing is due or `stop_at` (monotonic) passes.

    With `item_record_ids`, only those queued items. Items claimed but not started by `stop_at` are released;
    so are all unfinished ones when Sierra turns out to be in a maintenance window (`counts.paused` is then 1).
    Raises `SierraAuthError` (after recording every outcome and releasing the rest) when Sierra refuses the
    credentials, since no item could be written.
    """
    run = _Run(
        engine=engine,
        sierra=sierra,
        settings=settings,
        owner=owner,
        stop_at=stop_at,
        counts=counts if counts is not None else WritebackRunCounts(),
        options=WritebackOptions.from_settings(settings),
        item_record_ids=item_record_ids,
    )
    with invocation_executor(max_workers=settings.sierra_update_concurrency, thread_name_prefix="writeback") as pool:
        try:
            _work(run, pool)
        except BaseException:
            # Outcomes cannot be recorded (database gone): start nothing more. Items already written stay
            # claimed, and the run that takes them over after the visibility timeout finds them done.
            run.halted.set()
            raise
    if run.maintenance is not None:
        run.counts.paused = 1
        logger.warning(
            "Sierra is in a maintenance window; the writeback stops and the next run resumes",
            extra={"owner": owner, "error": str(run.maintenance)},
        )
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
            session,
            owner=run.owner,
            now=now,
            limit=run.settings.sierra_update_batch_size_limit,
            item_record_ids=run.item_record_ids,
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
            error = f"{message}; {max_attempts} attempts used"
            queue.dead_letter(
                session, item_record_id=entry.item_record_id, owner=run.owner, now=now, error_code=None, error=error
            )
            _report_dead_letter(entry, error_code=None, error=error)
    run.counts.claimed += len(claimed)
    run.counts.batches += 1 if claimed else 0
    return workable


def _work(run: _Run, pool: ThreadPoolExecutor) -> None:
    """Keep the workers fed: the next batch is claimed while the current one still runs, so that no batch
    waits for its slowest item; outcomes are recorded as they arrive."""
    workers = run.settings.sierra_update_concurrency
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
        given_back = {_NOT_STARTED, _PAUSED}
        _record(run, [result for result in results if result.outcome not in given_back])
        _release(run, [result.entry.item_record_id for result in results if result.outcome in given_back])
        may_claim = may_claim or run.counts.retried > retried
        written.extend(result.entry.item_record_id for result in results if result.landed)
        if len(written) >= run.settings.sierra_update_batch_size_limit:
            _read_back_updated_dates(run, written)
            written = []
    _read_back_updated_dates(run, written)


def _may_start(run: _Run) -> bool:
    return not run.halted.is_set() and time.monotonic() < run.stop_at


def _release(run: _Run, item_record_ids: Sequence[int]) -> None:
    """Give back claimed items that were not started or were stopped by a maintenance window."""
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
        written = _write(run, entry)
    except SierraMaintenanceError as exc:
        run.maintenance = exc
        run.halted.set()
        return _Result(entry, _PAUSED, started_at, _elapsed_ms(began))
    except Exception as exc:  # every failure is recorded against its item, so none is lost
        partly = exc if isinstance(exc, _PartlyWrittenError) else None
        error = partly.cause if partly is not None else exc
        if isinstance(error, SierraAuthError):
            run.halted.set()
        landed = _Written(_FAILED, landed=partly.landed, held=partly.held) if partly is not None else None
        return _Result(entry, _FAILED, started_at, _elapsed_ms(began), written=landed, error=error)
    return _Result(entry, written.outcome, started_at, _elapsed_ms(began), written=written)


def _write(run: _Run, entry: ClaimedEntry) -> _Written:
    """GET the item, plan, PUT what changes (part by part when Sierra refuses the whole), or find it done."""
    plan, updated_at = _plan(run, entry)
    if plan.done:
        return _Written(OUTCOME_SKIPPED_AS_DONE, held=plan.in_place, sierra_updated_at=updated_at)
    try:
        _put(run, entry, plan, plan.part_names)
    except SierraBadRequestError as refusal:
        if len(plan.parts) == 1:
            return _Written(_REFUSED, held=plan.in_place, refused={plan.part_names[0]: refusal})
        logger.info(
            "Sierra refused the whole body; writing its parts one at a time",
            extra={"item": entry.item_record_id, "parts": list(plan.part_names), "error": str(refusal)},
        )
        return _put_one_at_a_time(run, entry, plan)
    return _Written(OUTCOME_WRITTEN, landed=plan.part_names, held=_in_order(plan.in_place, plan.part_names))


def _put_one_at_a_time(run: _Run, entry: ClaimedEntry, plan: WritebackPlan) -> _Written:
    landed: list[str] = []
    refused: dict[str, SierraError] = {}
    for name in plan.part_names:
        try:
            _put(run, entry, plan, (name,))
        except SierraBadRequestError as exc:
            refused[name] = exc
            if name == PART_CALL_NUMBER:
                # Without its new call number the item gets neither stamp.
                break
            continue
        except SierraMaintenanceError:
            raise
        except Exception as exc:
            if not landed:
                raise
            raise _PartlyWrittenError(exc, tuple(landed), _in_order(plan.in_place, landed)) from exc
        landed.append(name)
    return _Written(
        _REFUSED if refused else OUTCOME_WRITTEN,
        landed=tuple(landed),
        held=_in_order(plan.in_place, landed),
        refused=refused,
    )


def _put(run: _Run, entry: ClaimedEntry, plan: WritebackPlan, names: Sequence[str]) -> None:
    """PUT these parts of the plan; a lost answer counts as landed when Sierra, read again, holds them."""
    try:
        run.sierra.update_item(entry.item_record_id, plan.body(names))
    except SierraMaintenanceError:
        raise
    except SierraUnavailableError:
        # The answer was lost or a server error came back: the write may still have landed. Re-read the
        # item now, so that the outcome on record is what Sierra holds.
        if not _landed(run, entry, names):
            raise


def _landed(run: _Run, entry: ClaimedEntry, names: Sequence[str]) -> bool:
    try:
        fresh, _ = _plan(run, entry)
    except SierraMaintenanceError:
        raise
    except SierraError:
        return False
    return not set(names) & set(fresh.parts)


def _plan(run: _Run, entry: ClaimedEntry) -> tuple[WritebackPlan, datetime | None]:
    """What the item needs now and its updatedDate."""
    return read_plan(
        run.sierra,
        entry.item_record_id,
        classification=entry.classification,
        queued_at=entry.queued_at,
        options=run.options,
    )


def read_plan(
    sierra: "SierraClient",
    item_record_id: int,
    *,
    classification: str,
    queued_at: datetime,
    options: WritebackOptions,
) -> tuple[WritebackPlan, datetime | None]:
    """GET the item and plan its write: what it needs now, and its updatedDate.

    Raises `UnwritableItemError` for an item deleted in Sierra or an empty classification.
    """
    item = sierra.get_item(item_record_id, fields=ITEM_READ_FIELDS)
    if item.deleted:
        raise UnwritableItemError(f"Item {item_record_id} is deleted in Sierra")
    if not classification.strip():
        raise UnwritableItemError("The queued classification is empty")
    plan = plan_writeback(
        item.model_dump(by_alias=True, exclude_none=True, mode="json"),
        classification=classification,
        options=options,
        now=_utcnow(),
        queued_at=queued_at,
    )
    return plan, item.updated_date


def _in_order(*groups: Iterable[str]) -> tuple[str, ...]:
    names = {name for group in groups for name in group}
    return tuple(name for name in WRITE_PARTS if name in names)


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
            elif result.outcome == _REFUSED:
                _record_refusal(run, session, result, now)
            else:
                _record_success(run, session, result, now)


def _record_success(run: _Run, session: Session, result: _Result, now: datetime) -> None:
    entry, written = result.entry, result.written
    assert written is not None
    _add_attempt(session, result, result.outcome)
    queue.mark_done(
        session,
        item_record_id=entry.item_record_id,
        owner=run.owner,
        now=now,
        sierra_updated_at=written.sierra_updated_at,
        written_parts=written.held or (),
    )
    if result.outcome == OUTCOME_WRITTEN:
        run.counts.written += 1
    else:
        run.counts.skipped_as_done += 1


def _record_refusal(run: _Run, session: Session, result: _Result, now: datetime) -> None:
    """Dead-letter what Sierra refused, with its error; what it accepted is recorded as written."""
    written = result.written
    assert written is not None
    refused = _in_order(written.refused)
    first = written.refused[refused[0]]
    message = "; ".join(f"Sierra refused the {name.replace('_', ' ')}: {written.refused[name]}" for name in refused)
    failure = _Failure(False, first.http_status or None, first.code or None, message[:MAX_ERROR_LENGTH])
    _dead_letter(run, session, result, failure, now, refused=refused)


def _record_failure(run: _Run, session: Session, result: _Result, error: Exception, now: datetime) -> None:
    entry = result.entry
    failure = _describe_failure(error)
    if isinstance(error, SierraAuthError) and run.halt_error is None:
        run.halt_error = error
    if not isinstance(error, SierraError | UnwritableItemError):
        logger.error("Unexpected error writing an item back", exc_info=error, extra={"item": entry.item_record_id})
    if not failure.retryable or entry.attempts >= run.settings.sierra_update_max_attempts:
        _dead_letter(run, session, result, failure, now)
        return
    _add_attempt(session, result, OUTCOME_RETRYING, failure)
    run.counts.retried += 1
    delay = retry_delay(entry.attempts, base_seconds=run.settings.sierra_update_backoff_base_seconds)
    queue.schedule_retry(
        session,
        item_record_id=entry.item_record_id,
        owner=run.owner,
        next_attempt_at=now + delay,
        error_code=failure.sierra_code,
        error=failure.message,
        written_parts=result.held,
    )


def _dead_letter(
    run: _Run, session: Session, result: _Result, failure: _Failure, now: datetime, refused: Sequence[str] = ()
) -> None:
    """Record the attempt and move the item to the dead letters, with the parts written and refused."""
    entry = result.entry
    _add_attempt(session, result, OUTCOME_DEAD_LETTERED, failure, refused)
    run.counts.dead_lettered += 1
    queue.dead_letter(
        session,
        item_record_id=entry.item_record_id,
        owner=run.owner,
        now=now,
        error_code=failure.sierra_code,
        error=failure.message,
        written_parts=result.held,
        refused_parts=refused,
    )
    logger.warning(
        "Writeback dead-lettered",
        extra={"item": entry.item_record_id, "error": failure.message, "refused": list(refused)},
    )
    _report_dead_letter(entry, error_code=failure.sierra_code, error=failure.message, refused=refused)


def _report_dead_letter(
    entry: ClaimedEntry, *, error_code: int | None, error: str, refused: Sequence[str] = ()
) -> None:
    """An item that will not be written back without a person: an error report (SENTRY_DSN)."""
    report_message(
        "Writeback dead-lettered",
        tags={"failure": "dead_lettered"},
        context={
            "item_record_id": entry.item_record_id,
            "attempts": entry.attempts,
            "sierra_code": error_code,
            "error": error,
            "refused_parts": list(refused),
        },
    )


def _add_attempt(
    session: Session, result: _Result, outcome: str, failure: _Failure | None = None, refused: Sequence[str] = ()
) -> None:
    """Record the attempt: its outcome, the parts it landed and those Sierra refused, and its failure if it failed."""
    queue.add_attempt(
        session,
        item_record_id=result.entry.item_record_id,
        attempted_at=result.started_at,
        outcome=outcome,
        classification=result.entry.classification,
        http_status=None if failure is None else failure.http_status,
        sierra_code=None if failure is None else failure.sierra_code,
        error=None if failure is None else failure.message,
        duration_ms=result.duration_ms,
        written_parts=result.landed,
        refused_parts=refused,
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
