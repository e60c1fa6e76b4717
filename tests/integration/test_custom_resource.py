"""The CloudFormation custom resource protocol, answered to a real HTTP server on 127.0.0.1."""

import socket
import threading
import time

import pytest
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent

from tarroitus.jobs import custom_resource
from tests.custom_resources import STACK_ID, custom_resource_event, response_url_server


def _handle(
    event: dict[str, object], action: custom_resource.Action, *, seconds_left: float = 300.0
) -> dict[str, object]:
    return custom_resource.handle(
        CloudFormationCustomResourceEvent(event),
        action,
        seconds_left=seconds_left,
        default_physical_resource_id="schema-id",
        log_stream_name="2026/11/23/[$LATEST]abc",
    )


def test_custom_resource_create_answers_success_with_the_action_data() -> None:
    with response_url_server() as recorder:
        # Given
        event = custom_resource_event("Create", response_url=recorder.url)
        # When
        answer = _handle(event, lambda: {"Revision": "0007"})
    # Then
    assert len(recorder.puts) == 1
    put = recorder.puts[0]
    assert put.path.startswith("/cloudformation-response?X-Amz-Signature=")
    assert put.body == answer
    assert put.body["Status"] == "SUCCESS"
    assert put.body["Data"] == {"Revision": "0007"}
    assert put.body["PhysicalResourceId"] == "schema-id"
    assert put.body["StackId"] == STACK_ID
    assert put.body["RequestId"] == event["RequestId"]
    assert put.body["LogicalResourceId"] == "MigrateOnDeploy"
    # The pre-signed URL is signed without a content type.
    assert put.headers.get("Content-Type") == ""


def test_custom_resource_update_keeps_the_physical_resource_id() -> None:
    with response_url_server() as recorder:
        # Given
        event = custom_resource_event("Update", response_url=recorder.url, physical_resource_id="existing-id")
        # When
        _handle(event, lambda: {})
    # Then
    assert [put.body["PhysicalResourceId"] for put in recorder.puts] == ["existing-id"]
    assert recorder.puts[0].body["Status"] == "SUCCESS"


def test_custom_resource_failure_answers_failed_with_the_reason() -> None:
    def failing() -> dict[str, str]:
        raise RuntimeError("relation items already exists")

    with response_url_server() as recorder:
        # Given
        event = custom_resource_event("Create", response_url=recorder.url)
        # When
        answer = _handle(event, failing)
    # Then
    assert answer["Status"] == "FAILED"
    assert [put.body["Status"] for put in recorder.puts] == ["FAILED"]
    reason = recorder.puts[0].body["Reason"]
    assert "RuntimeError: relation items already exists" in reason
    assert "[$LATEST]abc" in reason


def test_custom_resource_delete_answers_success_without_running_the_action() -> None:
    ran: list[bool] = []

    def action() -> dict[str, str]:
        ran.append(True)
        return {}

    with response_url_server() as recorder:
        # Given
        event = custom_resource_event("Delete", response_url=recorder.url)
        # When
        _handle(event, action)
    # Then
    assert ran == []
    assert [put.body["Status"] for put in recorder.puts] == ["SUCCESS"]
    assert recorder.puts[0].body["PhysicalResourceId"] == "tarroitus-database-schema"


def test_custom_resource_timeout_answers_failed_once_before_the_lambda_ends() -> None:
    release = threading.Event()

    def slow() -> dict[str, str]:
        release.wait(timeout=10)
        return {"Revision": "late"}

    with response_url_server() as recorder:
        # Given: half a second before the timer's margin runs out
        event = custom_resource_event("Update", response_url=recorder.url)
        seconds_left = custom_resource.TIMEOUT_MARGIN_SECONDS + 0.5
        started = time.monotonic()
        worker = threading.Thread(target=_handle, args=(event, slow), kwargs={"seconds_left": seconds_left})
        # When
        worker.start()
        answered = recorder.received.wait(timeout=5)
        elapsed = time.monotonic() - started
        release.set()
        worker.join(timeout=5)
    # Then
    assert answered
    assert elapsed < 5
    assert [put.body["Status"] for put in recorder.puts] == ["FAILED"]
    assert "Lambda timeout" in recorder.puts[0].body["Reason"]


def test_custom_resource_unreachable_response_url_does_not_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a port nothing listens on
    monkeypatch.setattr(custom_resource, "PUT_ATTEMPTS", 1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    event = custom_resource_event("Create", response_url=f"http://127.0.0.1:{port}/response")
    # When
    answer = _handle(event, lambda: {"Revision": "0001"})
    # Then
    assert answer["Status"] == "SUCCESS"
