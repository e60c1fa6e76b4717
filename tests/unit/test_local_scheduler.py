"""The local scheduler: Scheduler-shaped events on each job's interval, one run at a time per job, failures survived."""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from local_stack.scheduler import LocalLambdaContext, RunReport, ScheduledJob, Scheduler


@dataclass
class RecordingHandler:
    """A handler that takes `seconds`, records every call, and counts how many of its calls run at once."""

    seconds: float
    fail_first: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    remaining: list[int] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.events.append(event)
            self.remaining.append(context.get_remaining_time_in_millis())
            calls = len(self.events)
        try:
            time.sleep(self.seconds)
            if self.fail_first and calls == 1:
                raise RuntimeError("the first run fails")
            return {"outcome": "succeeded", "call": calls}
        finally:
            with self.lock:
                self.running -= 1


def run_for(seconds: float, jobs: list[ScheduledJob]) -> list[RunReport]:
    reports: list[RunReport] = []
    scheduler = Scheduler(jobs, on_report=reports.append)
    scheduler.start()
    time.sleep(seconds)
    assert scheduler.stop(timeout_seconds=5) == []
    return reports


def job(name: str, handler: RecordingHandler, **options: Any) -> ScheduledJob:
    return ScheduledJob(
        name=name, function_name=f"fn-{name}", handler=handler, interval_seconds=0.1, timeout_seconds=30, **options
    )


def test_scheduler_sends_scheduler_events_and_never_overlaps_a_job_with_itself() -> None:
    # Given: a job slower than its interval, and a quick one on the same interval
    slow, quick = RecordingHandler(seconds=0.35), RecordingHandler(seconds=0.0)

    # When
    reports = run_for(1.2, [job("slow", slow, first_detail={"mode": "full"}), job("quick", quick)])

    # Then: the slow job ran back to back, one run at a time; the quick one kept its interval
    assert slow.most_at_once == 1
    assert 2 <= len(slow.events) <= 4
    assert len(quick.events) >= 6
    for event in slow.events + quick.events:
        assert (event["source"], event["detail-type"], event["version"]) == ("aws.scheduler", "Scheduled Event", "0")
        assert event["resources"][0].startswith("arn:aws:scheduler:eu-north-1:")
        assert datetime.fromisoformat(event["time"]).tzinfo is not None
    assert [event["detail"] for event in slow.events[:2]] == [{"mode": "full"}, {}]
    assert all(0 < millis <= 30_000 for millis in slow.remaining)
    slow_reports = [report for report in reports if report.job == "slow"]
    assert all(report.started_at >= report.scheduled_at for report in slow_reports)


def test_scheduler_logs_a_failed_run_and_keeps_the_schedule(caplog: pytest.LogCaptureFixture) -> None:
    # Given
    failing = RecordingHandler(seconds=0.0, fail_first=True)

    # When
    with caplog.at_level(logging.INFO, logger="local_stack.scheduler"):
        reports = run_for(0.45, [job("flaky", failing)])

    # Then
    assert reports[0].error == "RuntimeError('the first run fails')"
    assert len(reports) >= 3 and all(report.error is None for report in reports[1:])
    assert "flaky failed; the schedule goes on" in caplog.text


def test_scheduler_skips_a_firing_later_than_the_misfire_grace(caplog: pytest.LogCaptureFixture) -> None:
    # Given: each run outlasts two firings; the grace allows no lateness worth mentioning
    slow = RecordingHandler(seconds=0.25)

    # When
    with caplog.at_level(logging.INFO, logger="local_stack.scheduler"):
        reports = run_for(1.0, [job("strict", slow, misfire_grace_seconds=0.03)])

    # Then: the coalesced late firing is skipped rather than started late
    assert "skipped a firing" in caplog.text
    assert reports and all((report.started_at - report.scheduled_at).total_seconds() < 0.1 for report in reports)


def test_scheduler_runs_a_late_firing_at_once_without_a_grace() -> None:
    # Given
    slow = RecordingHandler(seconds=0.25)

    # When
    reports = run_for(1.0, [job("lenient", slow)])

    # Then: after each run the missed firings collapse into one that starts straight away
    late_starts = [(report.started_at - report.scheduled_at).total_seconds() for report in reports[1:]]
    assert late_starts and max(late_starts) > 0.01
    assert len(reports) >= 3


def test_local_context_counts_down_from_the_function_timeout() -> None:
    # Given
    context = LocalLambdaContext(function_name="tarroitus-local-EtlFunction", timeout_seconds=2)

    # When
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    second = context.get_remaining_time_in_millis()

    # Then
    assert 1900 < first <= 2000 and second < first
    assert context.invoked_function_arn.endswith(":function:tarroitus-local-EtlFunction")
    assert context.aws_request_id and context.memory_limit_in_mb > 0
