"""Real Lambda event shapes and a fake context, for invoking handlers in-process."""

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode


@dataclass
class FakeLambdaContext:
    """The attributes of a Lambda context that Powertools and the jobs read."""

    function_name: str = "tarroitus-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-north-1:123456789012:function:tarroitus-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_millis: int = 300_000
    log_group_name: str = "/aws/lambda/tarroitus-test"
    log_stream_name: str = "2026/11/23/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left in the invocation."""
        return self.remaining_millis


def http_api_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: bytes | str | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as `sam local generate-event` produces it."""
    request_headers = {"accept": "*/*", "host": "api.example.com", "user-agent": "tests/1.0"}
    request_headers.update({name.lower(): value for name, value in (headers or {}).items()})
    encoded, is_base64 = _encode_body(body, request_headers)
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": request_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": request_headers["user-agent"],
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if encoded is not None:
        event["body"] = encoded
    return event


def _encode_body(body: bytes | str | dict[str, Any] | None, headers: dict[str, str]) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if isinstance(body, dict):
        headers.setdefault("content-type", "application/json")
        return json.dumps(body), False
    if isinstance(body, bytes):
        return base64.b64encode(body).decode("ascii"), True
    return body, False


def scheduler_event(*, detail: dict[str, Any] | None = None, at: datetime | None = None) -> dict[str, Any]:
    """An EventBridge Scheduler invocation with the default (EventBridge-shaped) payload."""
    moment = at or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "eu-north-1",
        "resources": ["arn:aws:scheduler:eu-north-1:123456789012:schedule/default/tarroitus-test"],
        "detail": detail or {},
    }


def response_json(response: dict[str, Any]) -> Any:
    """The decoded JSON body of a Mangum response."""
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return json.loads(body) if body else None
