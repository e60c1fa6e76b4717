"""A local stand-in for EventBridge Scheduler: one thread per job, invoking Lambda handlers in-process.

Each job fires every `interval_seconds` on a fixed grid from its first firing. A run happens in the
job's own thread, so a job never overlaps itself; firings missed while a run was still going are
coalesced into one, which starts at once unless it is later than the job's misfire grace (then it is
skipped and the job waits for the next firing). A failing run is logged and the schedule goes on.
The handler receives the event the template's schedules send (`<aws.scheduler.scheduled-time>` as
`time`) and a context whose remaining time counts down from the function's timeout.
"""

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

logger = logging.getLogger("local_stack.scheduler")

ACCOUNT_ID = "123456789012"
REGION: Final = "eu-north-1"

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalLambdaContext:
    """The Lambda context attributes Powertools and the jobs read; the remaining time is real."""

    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        """The function's ARN, as Lambda would pass it."""
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        """The function's log group name."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """A log stream name in Lambda's format."""
        return f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self.started + self.timeout_seconds - time.monotonic()) * 1000))


def scheduler_event(
    *, schedule_name: str, scheduled_time: datetime, detail: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The event the template's EventBridge Scheduler schedules send (their `Input`)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": ACCOUNT_ID,
        "time": scheduled_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/{schedule_name}"],
        "detail": dict(detail or {}),
    }


@dataclass(frozen=True)
class ScheduledJob:
    """A Lambda function on a rate schedule."""

    name: str
    function_name: str
    handler: Handler
    interval_seconds: float
    timeout_seconds: float
    #: How late a firing may still start; None: a late firing always runs.
    misfire_grace_seconds: float | None = None
    #: Seconds from the scheduler's start to the first firing.
    first_run_after_seconds: float = 0.0
    #: `detail` of the first firing's event (later firings send the schedule's empty detail).
    first_detail: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RunReport:
    """One invocation: when it was due and started, how it ended, and what the handler returned."""

    job: str
    scheduled_at: datetime
    started_at: datetime
    seconds: float
    result: Any = None
    error: str | None = None


class _JobThread(threading.Thread):
    def __init__(self, job: ScheduledJob, stop: threading.Event, on_report: Callable[[RunReport], None]) -> None:
        super().__init__(name=f"schedule-{job.name}", daemon=True)
        self.job = job
        self._stop_event = stop
        self._on_report = on_report
        self.running = False

    def run(self) -> None:
        job = self.job
        origin_monotonic, origin_wall = time.monotonic(), datetime.now(UTC)
        due = origin_monotonic + job.first_run_after_seconds
        first = True
        while not self._stop_event.wait(max(0.0, due - time.monotonic())):
            now = time.monotonic()
            missed = math.floor((now - due) / job.interval_seconds)
            if missed > 0:
                logger.info("%s: %d firing(s) coalesced (the previous run outlasted them)", job.name, missed)
                due += missed * job.interval_seconds
            scheduled_at = origin_wall + timedelta(seconds=due - origin_monotonic)
            late = now - due
            if job.misfire_grace_seconds is not None and late > job.misfire_grace_seconds:
                logger.warning(
                    "%s: skipped a firing %.1f s late (misfire grace %.0f s)", job.name, late, job.misfire_grace_seconds
                )
            else:
                self._invoke(scheduled_at, job.first_detail if first else None)
                first = False
            due += job.interval_seconds

    def _invoke(self, scheduled_at: datetime, detail: Mapping[str, Any] | None) -> None:
        self.running = True
        try:
            report = invoke(self.job, scheduled_at, detail)
        finally:
            self.running = False
        self._on_report(report)


def invoke(job: ScheduledJob, scheduled_at: datetime, detail: Mapping[str, Any] | None = None) -> RunReport:
    """Invoke the job's handler once, as its schedule would at `scheduled_at`; a failure is logged and reported."""
    event = scheduler_event(schedule_name=f"tarroitus-local-{job.name}", scheduled_time=scheduled_at, detail=detail)
    context = LocalLambdaContext(function_name=job.function_name, timeout_seconds=job.timeout_seconds)
    started_at, started = datetime.now(UTC), time.monotonic()
    try:
        result = job.handler(event, context)
    except Exception as exc:
        logger.exception("%s failed; the schedule goes on", job.name)
        return RunReport(job.name, scheduled_at, started_at, time.monotonic() - started, error=repr(exc))
    report = RunReport(job.name, scheduled_at, started_at, time.monotonic() - started, result=result)
    logger.info("%s finished in %.1f s: %s", job.name, report.seconds, result)
    return report


class Scheduler:
    """Runs each job on its schedule in its own thread until `stop()`."""

    def __init__(self, jobs: list[ScheduledJob], *, on_report: Callable[[RunReport], None] | None = None) -> None:
        self._stop_event = threading.Event()
        self._on_report = on_report or (lambda _report: None)
        self._threads = [_JobThread(job, self._stop_event, self._on_report) for job in jobs]

    def start(self) -> None:
        """Start every job's thread (a job whose first firing is due at once starts running now)."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_seconds: float = 30.0) -> list[str]:
        """Fire nothing more and wait for runs in progress; returns the jobs still running at the timeout."""
        self._stop_event.set()
        busy = [thread.job.name for thread in self._threads if thread.running]
        if busy:
            logger.info("waiting up to %.0f s for %s to finish", timeout_seconds, ", ".join(busy))
        deadline = time.monotonic() + timeout_seconds
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        return [thread.job.name for thread in self._threads if thread.is_alive()]
