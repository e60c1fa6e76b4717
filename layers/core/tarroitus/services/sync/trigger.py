"""Starting a sync run on demand: in AWS by invoking the sync Lambda asynchronously, locally in-process."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger, Tracer
from sqlalchemy.orm import Session

from tarroitus.deadlines import Deadline
from tarroitus.domain import SYNC_JOB_NAME, SyncMode
from tarroitus.errors import ConflictError, ServiceUnavailableError
from tarroitus.models import JobState
from tarroitus.settings import Settings

logger = Logger(child=True)
tracer = Tracer(auto_patch=False)

#: Budget of a run started in-process (no Lambda timeout applies): as long as the Lambda's longest.
LOCAL_RUN_BUDGET_SECONDS = 900.0

Scheduler = Callable[..., Any]


@dataclass(frozen=True)
class SyncRunStarted:
    """Where a requested run was started, and which pass was asked for (None: whatever the state calls for)."""

    mode: SyncMode | None
    target: Literal["lambda", "in_process"]


@tracer.capture_method(capture_response=False)
def start_sync_run(
    session: Session, settings: Settings, *, mode: SyncMode | None, schedule: Scheduler
) -> SyncRunStarted:
    """Start a run now: invoke SYNC_FUNCTION_NAME asynchronously, or hand `run_sync_in_process` to `schedule`."""
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
    if settings.sync_function_name:
        invoke_sync_function(settings, mode=mode)
        return SyncRunStarted(mode=mode, target="lambda")
    schedule(run_sync_in_process, settings, mode)
    return SyncRunStarted(mode=mode, target="in_process")


def invoke_sync_function(settings: Settings, *, mode: SyncMode | None) -> None:
    """Invoke the sync Lambda with InvocationType Event and a manual `{"mode": ...}` event."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    endpoint = str(settings.aws_endpoint_url) if settings.aws_endpoint_url else None
    # An admin waits for this answer: a few quick attempts, not botocore's long default backoff.
    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
    client = boto3.client("lambda", region_name=settings.aws_region, endpoint_url=endpoint, config=config)
    payload = json.dumps({"mode": mode.value if mode else None}).encode()
    try:
        client.invoke(FunctionName=str(settings.sync_function_name), InvocationType="Event", Payload=payload)
    except (BotoCoreError, ClientError) as exc:
        logger.exception("Could not invoke the sync function", extra={"function": settings.sync_function_name})
        raise ServiceUnavailableError("The sync function could not be started") from exc


def run_sync_in_process(settings: Settings, mode: SyncMode | None) -> dict[str, Any] | None:
    """One sync run in this process (local development), with the Lambda's longest budget.

    It runs as a background task after the 202 went out, so nobody can receive its exception: a
    failure is logged with its traceback (and the run record says "failed"), and None is returned.
    """
    # The sync engine and the Sierra client load here, not with the API.
    from tarroitus.services.sync.passes import run_sync

    try:
        summary = run_sync(settings, deadline=Deadline.after(LOCAL_RUN_BUDGET_SECONDS), mode=mode)
    except Exception:
        logger.exception("In-process sync run failed")
        return None
    logger.info("In-process sync run finished", extra=summary)
    return summary
