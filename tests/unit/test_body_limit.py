"""The request body size limit middleware, driven with raw ASGI messages."""

import asyncio
import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from tarroitus.api.body_limit import BodySizeLimitMiddleware

LIMIT = 1024


class RecordingApp:
    """An ASGI app that reads the whole body and answers 200 with its length."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


def http_scope(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers or [],
    }


def call(scope: Scope, chunks: list[bytes]) -> tuple[RecordingApp, list[Message], int]:
    app = RecordingApp()
    middleware = BodySizeLimitMiddleware(app, max_bytes=LIMIT)
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    taken = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal taken
        taken += 1
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return app, sent, taken


def response_of(sent: list[Message]) -> tuple[int, Any]:
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], json.loads(body) if body.startswith(b"{") else body


def test_body_limit_passes_a_chunked_body_within_the_limit_unchanged() -> None:
    # Given
    chunks = [b"a" * 300, b"b" * 300, b"c" * (LIMIT - 600)]
    # When
    app, sent, _ = call(http_scope("/api/v1/x"), chunks)
    # Then
    assert app.bodies == [b"".join(chunks)]
    assert response_of(sent) == (200, str(LIMIT).encode())


def test_body_limit_refuses_a_declared_length_before_reading() -> None:
    # Given
    scope = http_scope("/api/v1/x", [(b"content-length", str(LIMIT + 1).encode())])
    # When
    app, sent, taken = call(scope, [b"x" * (LIMIT + 1)])
    # Then
    status, body = response_of(sent)
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert body["error"]["details"][0]["limit_bytes"] == LIMIT
    assert (app.bodies, taken) == ([], 0)


def test_body_limit_refuses_a_streamed_body_as_soon_as_it_passes_the_limit() -> None:
    # Given
    chunks = [b"a" * 600, b"b" * 600, b"c" * 600]
    # When
    app, sent, taken = call(http_scope("/api/v1/x"), chunks)
    # Then
    assert response_of(sent)[0] == 413
    assert app.bodies == []
    assert taken == 2


def test_body_limit_answers_legacy_paths_with_a_detail_body() -> None:
    # Given
    chunks = [b"z" * (LIMIT + 1)]
    # When
    _, sent, _ = call(http_scope("/itemdata/450000000001"), chunks)
    # Then
    status, body = response_of(sent)
    assert status == 413
    assert body == {"detail": f"The request body is larger than the limit of {LIMIT} bytes"}


def test_body_limit_ignores_a_malformed_content_length_and_counts() -> None:
    # Given
    scope = http_scope("/api/v1/x", [(b"content-length", b"lots")])
    # When
    app, sent, _ = call(scope, [b"q" * 10])
    # Then
    assert app.bodies == [b"q" * 10]
    assert response_of(sent)[0] == 200
