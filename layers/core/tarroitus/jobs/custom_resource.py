"""CloudFormation custom resources: run an action and always answer the pre-signed ResponseURL.

CloudFormation waits for that answer, so every path answers exactly once: success, an exception,
and a run about to hit the Lambda timeout (a timer answers FAILED shortly before it). Delete
answers SUCCESS without running anything: nothing a deploy created here may be destroyed.
"""

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent

from tarroitus.error_reporting import report_exception

logger = Logger(child=True)

SUCCESS = "SUCCESS"
FAILED = "FAILED"
#: How long before the Lambda timeout the timer answers FAILED.
TIMEOUT_MARGIN_SECONDS = 10.0
#: CloudFormation shows the reason in the stack events; keep it readable (the response is at most 4 KiB).
MAX_REASON_CHARS = 1000
PUT_ATTEMPTS = 3
PUT_TIMEOUT_SECONDS = 10.0

Action = Callable[[], Mapping[str, str]]


class _Responder:
    """Sends the one response of a request; later attempts (timer vs. finished action) do nothing."""

    def __init__(self, request: CloudFormationCustomResourceEvent, physical_resource_id: str) -> None:
        self._request = request
        self._physical_resource_id = physical_resource_id
        self._lock = threading.Lock()
        self.sent: dict[str, Any] | None = None

    def send(self, status: str, reason: str, data: Mapping[str, str] | None = None) -> dict[str, Any]:
        with self._lock:
            if self.sent is not None:
                return self.sent
            body: dict[str, Any] = {
                "Status": status,
                "Reason": reason[:MAX_REASON_CHARS],
                "PhysicalResourceId": self._physical_resource_id,
                "StackId": self._request.stack_id,
                "RequestId": self._request.request_id,
                "LogicalResourceId": self._request.logical_resource_id,
                "NoEcho": False,
                "Data": dict(data or {}),
            }
            self.sent = body
        put_response(self._request.response_url, body)
        return body


def handle(
    request: CloudFormationCustomResourceEvent,
    action: Action,
    *,
    seconds_left: float,
    default_physical_resource_id: str,
    log_stream_name: str,
) -> dict[str, Any]:
    """Run `action` for Create and Update and answer CloudFormation with its outcome; return the answer sent."""
    physical_resource_id = request.physical_resource_id or default_physical_resource_id
    responder = _Responder(request, physical_resource_id)
    timer = threading.Timer(
        max(seconds_left - TIMEOUT_MARGIN_SECONDS, 0.0),
        responder.send,
        args=(FAILED, f"did not finish within the Lambda timeout; see log stream {log_stream_name}"),
    )
    timer.daemon = True
    timer.start()
    try:
        if request.request_type == "Delete":
            return responder.send(SUCCESS, "Delete leaves the database as it is")
        data = action()
        return responder.send(SUCCESS, f"{request.request_type} succeeded", data)
    except Exception as exc:
        # Answering FAILED is the error report: raising would only make Lambda retry the invocation.
        logger.exception("custom resource action failed", extra={"request_type": request.request_type})
        report_exception(exc, tags={"failure": "run_failed"})
        return responder.send(FAILED, f"{type(exc).__name__}: {exc} (log stream {log_stream_name})")
    finally:
        timer.cancel()


def put_response(response_url: str, body: Mapping[str, Any]) -> None:
    """PUT the JSON answer to CloudFormation's pre-signed URL, retrying transient failures."""
    payload = json.dumps(body).encode("utf-8")
    # The pre-signed S3 URL is signed without a content type: send an empty one, as cfn-response does.
    headers = {"Content-Type": "", "Content-Length": str(len(payload))}
    for attempt in range(1, PUT_ATTEMPTS + 1):
        request = urllib.request.Request(response_url, data=payload, method="PUT", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=PUT_TIMEOUT_SECONDS) as response:
                logger.info("answered CloudFormation", extra={"status": body["Status"], "http_status": response.status})
                return
        except (urllib.error.URLError, TimeoutError) as exc:
            logger.warning("answering CloudFormation failed", extra={"attempt": attempt, "error": str(exc)})
            if attempt < PUT_ATTEMPTS:
                time.sleep(attempt)
    logger.error("CloudFormation was not answered; the stack waits until its ServiceTimeout")
