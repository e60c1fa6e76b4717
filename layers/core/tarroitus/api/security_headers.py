"""Security headers on every response; a header a route has set already is left alone.

JSON and other data responses get a Content-Security-Policy that allows nothing (`default-src
'none'`), so a response rendered by a browser by mistake cannot run or frame anything. HTML pages
(the API docs, the dashboard) bring the scripts and styles they need, so they only get
`frame-ancestors 'none'` unless they set their own policy. Responses under /api/ and JSON
responses carry `Cache-Control: no-store`: they hold item data, client records or, once, an API key.
HSTS is sent only over HTTPS (API Gateway always; plain-HTTP local development never).
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = "frame-ancestors 'none'"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    """Add the security headers above to every HTTP response start message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; amend the response's headers as they go out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        api_path = str(scope.get("path", "")).startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), https=https, api_path=api_path)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_security_headers(headers: MutableHeaders, *, https: bool, api_path: bool) -> None:
    """Set each missing security header on `headers` for a response of this kind."""
    for name, value in ALWAYS.items():
        headers.setdefault(name, value)
    content_type = headers.get("content-type", "").lower()
    is_page = content_type.startswith("text/html")
    headers.setdefault("Content-Security-Policy", PAGE_CSP if is_page else DATA_CSP)
    if api_path or content_type.startswith("application/json"):
        headers.setdefault("Cache-Control", "no-store")
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
