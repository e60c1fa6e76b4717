"""A request body size limit (`MAX_REQUEST_BODY_BYTES`), answered with 413 in the protocol's error body.

A declared `Content-Length` over the limit is refused before anything is read. Otherwise the
body is read ahead, counting the bytes as they arrive (chunked uploads declare no length), and
refused as soon as it passes the limit; a body within the limit is handed to the app unchanged.
Reading ahead is what lets the refusal come before any route has started to parse the body, and
it costs nothing in Lambda, where API Gateway delivers the body in one piece anyway.
"""

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tarroitus.api.errors import error_response


class BodySizeLimitMiddleware:
    """Refuse HTTP requests whose body is larger than `max_bytes` with 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body read ahead, or answer 413."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self.refuse(scope, receive, send)
            return
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self.refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(messages, receive), send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 with the error body of the request's protocol."""
        message = f"The request body is larger than the limit of {self.max_bytes} bytes"
        detail = {"field": "body", "message": message, "type": "too_large", "limit_bytes": self.max_bytes}
        response = error_response(Request(scope), 413, "payload_too_large", message, [detail])
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None when absent or not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive callable that returns `messages` first, then whatever `receive` brings (a disconnect)."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
