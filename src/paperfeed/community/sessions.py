"""Log-in sessions kept by the server: the browser's cookie holds only a random id (256 bits),
the store only the SHA-256 of it, so neither a stolen database nor an old cookie lets anyone in
once the session has ended. A session ends at log-out ("everywhere" ends all of a user's), after
`idle` without a request, and LIFETIME after log-in whatever the activity. Every log-in starts a
new session with a new id (an id planted in a browser beforehand is never adopted).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from paperfeed.models import LoginSession, User
from paperfeed.store import SqlStore

LIFETIME = dt.timedelta(days=30)
TOUCH_AFTER = dt.timedelta(minutes=5)  # last-seen times are written at most this often
MAX_TOKEN = 128  # longer cookie values are not ours: not even hashed


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    store: SqlStore, user: User, *, now: dt.datetime, idle: dt.timedelta
) -> tuple[str, LoginSession]:
    """A new session of `user`: (the id for the cookie, the session). Sessions that have ended
    meanwhile are forgotten on the way."""
    store.sessions.delete_stale_sessions(now, now - idle)
    token = secrets.token_urlsafe(32)
    session = LoginSession(
        user_id=user.id,
        csrf=secrets.token_urlsafe(32),
        created_at=now,
        last_seen=now,
        expires_at=now + LIFETIME,
    )
    store.sessions.add_session(_key(token), session)
    return token, session


def resume(
    store: SqlStore, token: str, *, now: dt.datetime, idle: dt.timedelta
) -> tuple[LoginSession, User] | None:
    """The live session whose cookie holds `token`, and its user; None when there is none (never
    was, ended, expired: an expired one is deleted)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    key = _key(token)
    session = store.sessions.get_session(key)
    if session is None:
        return None
    user = store.community.get_user(session.user_id)
    if user is None or now >= session.expires_at or now - session.last_seen >= idle:
        store.sessions.delete_session(key)
        return None
    if now - session.last_seen >= TOUCH_AFTER:
        store.sessions.touch_session(key, now)
    return session, user


def end(store: SqlStore, token: str) -> None:
    """End the session whose cookie holds `token` (nothing when there is none)."""
    if token and len(token) <= MAX_TOKEN:
        store.sessions.delete_session(_key(token))


def end_all(store: SqlStore, user: User) -> int:
    """End every session of `user` (log out everywhere); returns how many there were."""
    return store.sessions.delete_user_sessions(user.id)


def count(store: SqlStore, user: User, *, now: dt.datetime, idle: dt.timedelta) -> int:
    """How many live sessions `user` has (browsers signed in)."""
    return store.sessions.count_user_sessions(user.id, now, now - idle)
