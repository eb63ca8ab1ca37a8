"""Accounts: sign-up rules, argon2 password hashes and log-in checks."""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paperfeed.errors import Forbidden, Invalid, Unauthorized
from paperfeed.models import User
from paperfeed.store import SqlStore

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$")
MIN_PASSWORD = 8
MAX_EMAIL = 320

_hasher = PasswordHasher()
_dummy_hashes: dict[int, str] = {}


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


def check_new_account(username: str, password: str, email: str | None) -> None:
    """Raise Invalid when a sign-up's user name, password or e-mail is not acceptable."""
    if not USERNAME.match(username):
        raise Invalid(
            "user names are 2–32 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"passwords need at least {MIN_PASSWORD} characters")
    if email and ("@" not in email or len(email) > MAX_EMAIL):
        raise Invalid("that e-mail address does not look right")


def create_account(
    store: SqlStore,
    username: str,
    password: str,
    email: str | None = None,
    *,
    is_admin: bool = False,
) -> User:
    """A new user with an argon2 password hash; Invalid or Conflict when that is not possible."""
    username, email = username.strip(), (email or "").strip() or None
    check_new_account(username, password, email)
    return store.community.create_user(username, hash_password(password), email, is_admin=is_admin)


def authenticate(store: SqlStore, username: str, password: str) -> User:
    """The user whose name and password these are; Unauthorized otherwise."""
    user = store.community.get_user_by_username(username.strip())
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("wrong user name or password")
    return user


def require_admin(user: User | None) -> User:
    """`user` when an administrator is signed in; Unauthorized or Forbidden otherwise."""
    if user is None:
        raise Unauthorized("log in first")
    if not user.is_admin:
        raise Forbidden("only administrators can do that")
    return user
