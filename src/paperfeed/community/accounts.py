"""Accounts: sign-up rules, argon2 password hashes (a bounded number at once), log-in checks
with a back-off per account, and the administrator rule.

Sign-up never tells whether an e-mail address belongs to an account: when it does, the new
account is made without an address (and the answer is the same as for a new address). A taken
user name is said to be taken: names are public anyway, on every submission.

Log-in failures are counted per user name (lower-cased, known or not, so that the answer tells
nothing either) in the store, so the count holds across web workers and client addresses: after
FREE_FAILURES failures in a row, each further failure refuses that name's log-ins for a while,
FIRST_LOCK doubling up to LONGEST_LOCK, even with the right password. A success, or a day
without failures, starts the count afresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paperfeed.community.passwords import MAX_PASSWORD, check_password
from paperfeed.emails import check_email
from paperfeed.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from paperfeed.models import User
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$")
MAX_NAME = 64  # the column's size; the names people choose are shorter (USERNAME)
HASH_WAIT = 5.0  # seconds a log-in waits for a free hashing slot before "busy, try again"
FREE_FAILURES = 10
FIRST_LOCK = dt.timedelta(minutes=1)
LONGEST_LOCK = dt.timedelta(hours=1)
FORGET_FAILURES = dt.timedelta(days=1)

# argon2id with the RFC 9106 low-memory profile: each hash holds 64 MiB while it runs.
_hasher = PasswordHasher()


def hashing_slots() -> int:
    """How many hashes may run at once in one process: one per CPU, at most 8 (512 MiB)."""
    return max(1, min(os.cpu_count() or 1, 8))


class PasswordHashing:
    """argon2 hashing and checking, at most `slots` at once: the others wait up to `wait`
    seconds for a slot, then get Unavailable (503, "busy"). `hasher` defaults to this module's
    argon2 parameters."""

    def __init__(
        self,
        hasher: PasswordHasher | None = None,
        *,
        slots: int | None = None,
        wait: float = HASH_WAIT,
    ) -> None:
        self._hasher = hasher
        self._slots = threading.BoundedSemaphore(slots or hashing_slots())
        self._wait = wait
        self._dummies: dict[int, str] = {}

    @property
    def argon2(self) -> PasswordHasher:
        return self._hasher or _hasher

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait):
            raise Unavailable("the server is busy checking other passwords: try again in a moment")
        try:
            yield
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        with self._slot():
            return self.argon2.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; an unknown user (None) costs as much time and is False."""
        hasher = self.argon2
        with self._slot():
            try:
                hasher.verify(password_hash or self._dummy(hasher), password)
            except (VerificationError, InvalidHashError):
                return False
        return password_hash is not None

    def _dummy(self, hasher: PasswordHasher) -> str:
        key = id(hasher)
        if key not in self._dummies:
            self._dummies[key] = hasher.hash(secrets.token_urlsafe(16))
        return self._dummies[key]


_default_hashing = PasswordHashing()


def check_username(username: str) -> str:
    """The name, trimmed; Invalid unless it can name an account."""
    username = username.strip()
    if not USERNAME.match(username):
        raise Invalid(
            "user names are 2–32 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return username


def create_account(
    store: SqlStore,
    username: str,
    password: str,
    email: str | None = None,
    *,
    is_admin: bool = False,
    hashing: PasswordHashing | None = None,
) -> User:
    """A new user with an argon2 password hash: Invalid for an unusable name, password or
    e-mail address, Conflict when the name is taken (a taken address: see the module)."""
    username = check_username(username)
    address = check_email(email) if email and email.strip() else None
    check_password(password, [username, *(address or "").split("@")])
    taken = Conflict(f"the user name {username!r} is already taken")
    if store.community.get_user_by_username(username) is not None:
        raise taken
    password_hash = (hashing or _default_hashing).hash(password)
    if address is not None and store.community.get_user_by_email(address) is not None:
        log.info("sign-up of %r with the address of another account: made without it", username)
        address = None
    try:
        return store.community.create_user(username, password_hash, address, is_admin=is_admin)
    except Conflict:  # made concurrently: the same name, or another account took the address
        if address is None or store.community.get_user_by_username(username) is not None:
            raise taken from None
        return store.community.create_user(username, password_hash, None, is_admin=is_admin)


def authenticate(
    store: SqlStore,
    username: str,
    password: str,
    *,
    hashing: PasswordHashing | None = None,
    now: dt.datetime | None = None,
) -> User:
    """The user whose name (in any case) and password these are; Unauthorized otherwise,
    RateLimited while the name is locked after failures (see the module)."""
    now = now or dt.datetime.now(dt.UTC)
    name = username.strip()
    key = name.lower()[:MAX_NAME]
    locked = store.sessions.locked_until(key)
    if locked is not None and locked > now:
        minutes = math.ceil((locked - now).total_seconds() / 60)
        raise RateLimited(
            f"too many failed log-ins for this user name: try again in {minutes} minute"
            + ("s" if minutes != 1 else "")
        )
    # (not USERNAME.match: migration 7 may have lengthened a name past its limit)
    user = store.community.get_user_by_username(name) if len(name) <= MAX_NAME else None
    hashing = hashing or _default_hashing
    # A password longer than any account may have is wrong without the cost of hashing it.
    right = len(password) <= MAX_PASSWORD and hashing.verify(
        user.password_hash if user else None, password
    )
    if user is None or not right:
        failures = store.sessions.record_login_failure(key, now, now - FORGET_FAILURES)
        if failures >= FREE_FAILURES:
            lock = min(FIRST_LOCK * 2 ** min(failures - FREE_FAILURES, 10), LONGEST_LOCK)
            store.sessions.lock_login(key, now + lock)
        raise Unauthorized("wrong user name or password")
    store.sessions.clear_login_failures(key)
    return user


def require_admin(user: User | None) -> User:
    """`user` when an administrator is signed in; Unauthorized or Forbidden otherwise."""
    if user is None:
        raise Unauthorized("log in first")
    if not user.is_admin:
        raise Forbidden("only administrators can do that")
    return user


def change_password(
    store: SqlStore, username: str, password: str, *, hashing: PasswordHashing | None = None
) -> User:
    """An operator sets the password of `username` (any case): the policy of sign-up holds, and
    every session of the account ends (a reset is often for an account in the wrong hands).
    NotFound for no such user, Invalid for a password the policy refuses."""
    user = store.community.get_user_by_username(username.strip())
    if user is None:
        raise NotFound(f"no user {username!r}")
    check_password(password, [user.username, *(user.email or "").split("@")])
    password_hash = (hashing or _default_hashing).hash(password)
    changed = store.community.admin.set_password_hash(user.username, password_hash)
    store.sessions.delete_user_sessions(user.id)
    return changed
