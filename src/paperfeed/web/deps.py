"""What routes need from a request: the PaperFeed, the signed-in user, CSRF tokens, limits.

The session is Starlette's ``SessionMiddleware`` (a JSON dict in a cookie signed with
itsdangerous and the deployment's secret key). It holds ``uid`` once logged in and a ``csrf``
token that every POST form echoes back in a hidden field (session-bound CSRF tokens); the
token is replaced on log in and log out.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, cast

from fastapi import Depends, Request

from paperfeed.core import PaperFeed
from paperfeed.errors import Forbidden, Unauthorized
from paperfeed.models import User
from paperfeed.web.limits import Limiters

SESSION_COOKIE = "paperfeed_session"
SESSION_MAX_AGE = 30 * 24 * 3600
CSRF_FIELD = "csrf_token"


def get_feed(request: Request) -> PaperFeed:
    """The PaperFeed the app was created with (``app.state.feed``)."""
    return cast(PaperFeed, request.app.state.feed)


FeedDep = Annotated[PaperFeed, Depends(get_feed)]


def limiters(request: Request) -> Limiters:
    return cast(Limiters, request.app.state.limiters)


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def has_session(request: Request) -> bool:
    return "session" in request.scope


def current_user(request: Request) -> User | None:
    """The logged-in user (looked up once per request), or None."""
    if not hasattr(request.state, "user"):
        uid = request.session.get("uid") if has_session(request) else None
        user = get_feed(request).user(uid) if isinstance(uid, int) else None
        if uid is not None and user is None:  # the account is gone
            request.session.pop("uid", None)
        request.state.user = user
    return cast(User | None, request.state.user)


def require_user(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise Unauthorized("log in first")
    return user


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden("the form expired or came from another site: reload the page and retry")


def log_in(request: Request, user: User) -> None:
    request.session.clear()
    request.session["uid"] = user.id
    csrf_token(request)


def log_out(request: Request) -> None:
    request.session.clear()
    csrf_token(request)
