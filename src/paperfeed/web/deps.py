"""What routes need from a request: the PaperFeed, the signed-in user, CSRF tokens, limits.

Who is signed in is kept by the server (community/sessions.py): the log-in cookie
(web/login_cookie.py) holds only the random id of a session, which log-out deletes at once.
Every POST form echoes the session's CSRF token in a hidden field: a signed-in browser's is kept
with its server session, a visitor's (the log-in and sign-up forms need one too) in Starlette's
``SessionMiddleware`` cookie (signed with the deployment's secret key), which holds nothing else.
Both are replaced on log-in and log-out.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from typing import Annotated, cast

from fastapi import Depends, Request

from paperfeed.core import PaperFeed
from paperfeed.errors import Forbidden, Invalid, Unauthorized
from paperfeed.models import LoginSession, User
from paperfeed.web import personal
from paperfeed.web.limits import Limiters
from paperfeed.web.login_cookie import login_cookie

SESSION_COOKIE = "paperfeed_session"
SESSION_MAX_AGE = 30 * 24 * 3600
CSRF_FIELD = "csrf_token"
API_RATE_COUNTED = "paperfeed.api_rate_counted"  # request scope key: counted already


def get_feed(request: Request) -> PaperFeed:
    """The PaperFeed the app was created with (``app.state.feed``)."""
    return cast(PaperFeed, request.app.state.feed)


FeedDep = Annotated[PaperFeed, Depends(get_feed)]


def limiters(request: Request) -> Limiters:
    return cast(Limiters, request.app.state.limiters)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(text: str | None) -> tuple[Network, ...]:
    """The networks of ``PAPERFEED_TRUSTED_PROXIES`` ("127.0.0.1, 10.0.0.0/8"); Invalid when an
    entry is not an IP address or network."""
    networks = []
    for entry in filter(None, (part.strip() for part in (text or "").split(","))):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise Invalid(
                f"PAPERFEED_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from None
    return tuple(networks)


def _is_trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def client_key(request: Request) -> str:
    """The client's address, which per-address limits count by: the connection's peer, unless
    the peer is a trusted proxy (``app.state.trusted_proxies``); then the rightmost
    ``X-Forwarded-For`` hop that is not a trusted proxy. Hops further left are whatever the
    client wrote, so they never count."""
    peer = request.client.host if request.client else "unknown"
    networks: tuple[Network, ...] = request.app.state.trusted_proxies
    if not _is_trusted(peer, networks):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
    ]
    for hop in reversed(hops):
        if hop and not _is_trusted(hop, networks):
            return hop
    return peer


def check_api_rate(request: Request) -> None:
    """Count the request against the client address's API limit (RateLimited, 429, beyond),
    once however many layers check it (the page cache, then the route on a miss)."""
    if request.scope.get(API_RATE_COUNTED):
        return
    request.scope[API_RATE_COUNTED] = True
    limiters(request).api.hit(client_key(request))


limit_api_rate = Depends(check_api_rate)


def has_session(request: Request) -> bool:
    return "session" in request.scope


def current_login(request: Request) -> tuple[LoginSession, User] | None:
    """The request's live session and its user (looked up once per request), or None; the
    cookie of a session that has ended is removed. None while the page cache renders a page
    for every reader (web/personal.py)."""
    if personal.shared_render(request.scope) is not None:
        return None
    if not hasattr(request.state, "login"):
        cookie = login_cookie(request)
        found = get_feed(request).community.session(cookie.token) if cookie.token else None
        cookie.clear = cookie.clear or (cookie.token is not None and found is None)
        request.state.login = found
    return cast(tuple[LoginSession, User] | None, request.state.login)


def current_user(request: Request) -> User | None:
    """The logged-in user, or None: the one place routes learn who is signed in."""
    login = current_login(request)
    return login[1] if login else None


def require_user(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise Unauthorized("log in first")
    return user


def csrf_token(request: Request) -> str:
    """The CSRF token of the signed-in session, else the visitor's (created on first use)."""
    login = current_login(request)
    if login is not None:
        return login[0].csrf
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    login = current_login(request)
    expected = login[0].csrf if login is not None else request.session.get("csrf")
    if (
        not expected
        or not submitted
        or not hmac.compare_digest(expected.encode(), submitted.encode())
    ):
        raise Forbidden("the form expired or came from another site: reload the page and retry")


def log_in(request: Request, user: User) -> None:
    """Sign `user` in with a new session (and a new id: an earlier one of this browser ends)."""
    feed, cookie = get_feed(request), login_cookie(request)
    if cookie.token:
        feed.community.end_session(cookie.token)
    token, session = feed.community.start_session(user)
    cookie.new_token = token
    request.session.clear()  # the visitor's CSRF token
    request.state.login = (session, user)


def log_out(request: Request) -> None:
    """End this browser's session: its id stops working at once, wherever it was copied."""
    cookie = login_cookie(request)
    if cookie.token:
        get_feed(request).community.end_session(cookie.token)
    cookie.new_token, cookie.clear = None, True
    request.session.clear()
    request.state.login = None
    csrf_token(request)


def log_out_everywhere(request: Request, user: User) -> None:
    """End every session of `user`, this one too."""
    get_feed(request).community.end_all_sessions(user)
    log_out(request)
