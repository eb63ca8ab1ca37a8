"""Accounts for the web app: argon2 password hashes, the signed-cookie session, CSRF tokens,
rate limits and roles.

The session is Starlette's ``SessionMiddleware`` (a JSON dict in a cookie signed with
itsdangerous and the deployment's secret key). It holds ``uid`` once logged in and a ``csrf``
token that every POST form echoes back in a hidden field (session-bound CSRF tokens); the
token is replaced on log in and log out.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request

from paperfeed.errors import Forbidden, Invalid, RateLimited, Unauthorized
from paperfeed.models import User
from paperfeed.store import SqlStore

SESSION_COOKIE = "paperfeed_session"
SESSION_MAX_AGE = 30 * 24 * 3600
CSRF_FIELD = "csrf_token"
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$")
MIN_PASSWORD = 8

_hasher = PasswordHasher()
_dummy_hashes: dict[int, str] = {}


# -- passwords -------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; an unknown user (None) costs as much time and is False."""
    try:
        _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def _dummy_hash() -> str:
    key = id(_hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[key]


def check_new_account(username: str, password: str) -> None:
    """Raise Invalid when a sign-up's user name or password is not acceptable."""
    if not USERNAME.match(username):
        raise Invalid(
            "user names are 2–32 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"passwords need at least {MIN_PASSWORD} characters")


def create_account(
    store: SqlStore,
    username: str,
    password: str,
    email: str | None = None,
    *,
    is_admin: bool = False,
) -> User:
    """A new user with an argon2 password hash; Invalid or Conflict when that is not possible."""
    check_new_account(username, password)
    return store.community.create_user(
        username, hash_password(password), email or None, is_admin=is_admin
    )


def authenticate(store: SqlStore, username: str, password: str) -> User:
    user = store.community.get_user_by_username(username)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("wrong user name or password")
    return user


# -- session ---------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


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


def current_user(request: Request, store: SqlStore) -> User | None:
    """The logged-in user (looked up once per request), or None."""
    if not hasattr(request.state, "user"):
        uid = request.session.get("uid")
        user = store.community.get_user(uid) if isinstance(uid, int) else None
        if uid is not None and user is None:  # the account is gone
            request.session.pop("uid", None)
        request.state.user = user
    return request.state.user


def require_user(request: Request, store: SqlStore) -> User:
    user = current_user(request, store)
    if user is None:
        raise Unauthorized("log in first")
    return user


def require_admin(request: Request, store: SqlStore) -> User:
    user = require_user(request, store)
    if not user.is_admin:
        raise Forbidden("only administrators can do that")
    return user


# -- rate limits -----------------------------------------------------------------------------


class RateLimiter(Protocol):
    """Counts actions per key; ``hit`` raises RateLimited once a key is over its limit."""

    def hit(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    seconds: float

    def describe(self) -> str:
        minutes = self.seconds / 60
        period = f"{minutes:g} minutes" if minutes != 1 else "minute"
        return f"{self.count} per {period}"


class SlidingWindowLimiter:
    """In-process sliding-window limiter: at most ``limit.count`` hits per key in any window of
    ``limit.seconds``. Enough for one server process (the SQLite deployment)."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.limit.seconds:
                hits.popleft()
            if len(hits) >= self.limit.count:
                retry = hits[0] + self.limit.seconds - now
                raise RateLimited(
                    f"too many requests ({self.limit.describe()}): try again in {retry:.0f} s"
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys now and then
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.limit.seconds]:
            del self._hits[key]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limits the app applies; tests pass smaller ones."""

    votes: Limit = Limit(60, 60)
    submissions: Limit = Limit(10, 3600)
    logins: Limit = Limit(10, 300)
    signups: Limit = Limit(5, 3600)


class Limiters:
    def __init__(self, limits: RateLimits) -> None:
        self.votes: RateLimiter = SlidingWindowLimiter(limits.votes)
        self.submissions: RateLimiter = SlidingWindowLimiter(limits.submissions)
        self.logins: RateLimiter = SlidingWindowLimiter(limits.logins)
        self.signups: RateLimiter = SlidingWindowLimiter(limits.signups)


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"
