"""The log-in cookie: it carries only the random id of a session the server keeps (see
community/sessions.py), HttpOnly, SameSite=Lax, Secure on an https site.

A pure ASGI middleware reads it into a `LoginCookie` in the request's scope; web/deps.py decides
(log in, log out, an ended session) and the middleware writes the change on the response.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGIN_COOKIE = "paperfeed_login"
_SCOPE_KEY = "paperfeed.login_cookie"


@dataclass(slots=True)
class LoginCookie:
    """The session id the request came with, and what the response does with the cookie."""

    token: str | None
    new_token: str | None = None  # set this id (a log-in)
    clear: bool = False  # remove the cookie (a log-out, or a session that has ended)


def login_cookie(connection: HTTPConnection) -> LoginCookie:
    """The request's log-in cookie (an empty one outside LoginCookieMiddleware)."""
    cookie = connection.scope.get(_SCOPE_KEY)
    return cookie if isinstance(cookie, LoginCookie) else LoginCookie(None)


class LoginCookieMiddleware:
    """Puts the request's LoginCookie in its scope and applies its change to the response."""

    def __init__(self, app: ASGIApp, *, max_age: int, secure: bool) -> None:
        self.app = app
        self.flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = LoginCookie(HTTPConnection(scope).cookies.get(LOGIN_COOKIE) or None)
        scope[_SCOPE_KEY] = cookie

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                if cookie.new_token:
                    value = f"{LOGIN_COOKIE}={cookie.new_token}; Max-Age={self.max_age}"
                    headers.append("Set-Cookie", f"{value}; {self.flags}")
                elif cookie.clear and cookie.token is not None:
                    headers.append("Set-Cookie", f"{LOGIN_COOKIE}=; Max-Age=0; {self.flags}")
                if cookie.token is not None or cookie.new_token:
                    headers.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, send_with_cookie)
