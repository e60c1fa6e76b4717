"""CloudFormation custom resource requests, and a local stand-in for their pre-signed ResponseURL."""

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STACK_ID = "arn:aws:cloudformation:eu-north-1:123456789012:stack/tarroitus-test/5b3a9a70-0000-11f0-a000-0a1b2c3d4e5f"


@dataclass
class RecordedPut:
    """One PUT the fake ResponseURL received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class ResponseRecorder:
    """What CloudFormation would have received, and the URL to send it to."""

    url: str
    puts: list[RecordedPut] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)


@contextmanager
def response_url_server(*, path: str = "/cloudformation-response") -> Iterator[ResponseRecorder]:
    """An HTTP server on 127.0.0.1 that records every PUT to its pre-signed-style URL."""
    recorder = ResponseRecorder(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            payload = self.rfile.read(length)
            recorder.puts.append(
                RecordedPut(path=self.path, headers=dict(self.headers.items()), body=json.loads(payload))
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            recorder.received.set()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    recorder.url = f"http://{host!s}:{port}{path}?X-Amz-Signature=test"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def custom_resource_event(
    request_type: str,
    *,
    response_url: str,
    physical_resource_id: str | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Lambda-backed custom resource request as CloudFormation sends it."""
    resource_properties = {
        "ServiceToken": "arn:aws:lambda:eu-north-1:123456789012:function:tarroitus-test-MigrateFunction",
        "ServiceTimeout": "660",
        "CoreLayerVersion": "arn:aws:lambda:eu-north-1:123456789012:layer:tarroitus-test-core:7",
        **(properties or {}),
    }
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": resource_properties["ServiceToken"],
        "ResponseURL": response_url,
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "MigrateOnDeploy",
        "ResourceType": "Custom::DatabaseMigration",
        "ResourceProperties": resource_properties,
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = physical_resource_id or "tarroitus-database-schema"
    if request_type == "Update":
        event["OldResourceProperties"] = {
            **resource_properties,
            "CoreLayerVersion": "arn:aws:lambda:eu-north-1:123456789012:layer:tarroitus-test-core:6",
        }
    return event
