"""Security headers on every response, as a pure ASGI middleware.

`PaperfeedApp` (web/app.py) puts it outside Starlette's ServerErrorMiddleware, so the 500 page,
the 413 of the body limit and every other answer the framework produces itself carry the headers
too; the page cache's front (web/page_front.py) writes SECURITY_HEADER_LIST into its answers.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
SECURITY_HEADER_LIST = [
    (name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
]


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS to each HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
