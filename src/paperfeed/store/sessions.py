"""The sessions area of the store: signed-in browsers (by the hash of their cookie's id) and
failed log-ins per user name; and migration 7, which also makes names and e-mail addresses
unique whatever their case.

Migration 7 on a database that already holds accounts differing only in case keeps the oldest
account as it is, renames each later one's user name to ``<name>-<id>`` (its owner logs in with
that) and drops a later account's e-mail address when an older account has the same one (the
address is shown on the account page only); each change is logged as a warning.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.models import LoginSession
from paperfeed.store import rows
from paperfeed.store.schema import email_lower, login_failures, sessions, username_lower, users

log = logging.getLogger(__name__)


def secure_accounts(conn: Connection) -> None:
    """Migration 7: the session and log-in failure tables, and case-insensitive uniqueness of
    user names and e-mail addresses (existing duplicates resolved as the module says)."""
    _rename_duplicate_names(conn)
    _drop_duplicate_emails(conn)
    for index in (username_lower, email_lower):
        conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
    sessions.create(conn, checkfirst=True)
    login_failures.create(conn, checkfirst=True)


def _duplicates(conn: Connection, column: sa.Column[Any]) -> list[Any]:
    """The users sharing a lower-cased value of `column` with an older user, oldest first."""
    folded = sa.func.lower(column)
    shared = sa.select(folded).where(column.is_not(None)).group_by(folded)
    shared = shared.having(sa.func.count() > 1)
    stmt = (
        sa.select(users.c.id, users.c.username, users.c.email, folded.label("folded"))
        .where(folded.in_(shared))
        .order_by(users.c.id)
    )
    seen: set[str] = set()
    later: list[Any] = []
    for row in conn.execute(stmt):
        if row.folded in seen:
            later.append(row)
        seen.add(row.folded)
    return later


def _rename_duplicate_names(conn: Connection) -> None:
    for row in _duplicates(conn, users.c.username):
        name, suffix = f"{row.username}-{row.id}", 1
        while _name_taken(conn, name):
            suffix += 1
            name = f"{row.username}-{row.id}-{suffix}"
        conn.execute(users.update().where(users.c.id == row.id).values(username=name))
        log.warning(
            "user %d renamed from %r to %r: the name differed from an older account's only in case",
            row.id,
            row.username,
            name,
        )


def _name_taken(conn: Connection, name: str) -> bool:
    stmt = sa.select(users.c.id).where(sa.func.lower(users.c.username) == sa.func.lower(name))
    return conn.execute(stmt).first() is not None


def _drop_duplicate_emails(conn: Connection) -> None:
    for row in _duplicates(conn, users.c.email):
        conn.execute(users.update().where(users.c.id == row.id).values(email=None))
        log.warning(
            "e-mail address of user %d (%s) removed: an older account has it", row.id, row.username
        )


def _session_from_row(row: Any) -> LoginSession:
    def aware(value: Any) -> dt.datetime:
        converted = rows.from_naive_utc(value)
        assert converted is not None
        return converted

    return LoginSession(
        user_id=row.user_id,
        csrf=row.csrf,
        created_at=aware(row.created_at),
        last_seen=aware(row.last_seen),
        expires_at=aware(row.expires_at),
    )


class SessionStore:
    """Sessions and failed log-ins in one SQL database; times are aware UTC datetimes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- sessions ----------------------------------------------------------------------------

    def add_session(self, id_hash: str, session: LoginSession) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sessions.insert().values(
                    id_hash=id_hash,
                    user_id=session.user_id,
                    csrf=session.csrf,
                    created_at=rows.to_naive_utc(session.created_at),
                    last_seen=rows.to_naive_utc(session.last_seen),
                    expires_at=rows.to_naive_utc(session.expires_at),
                )
            )

    def get_session(self, id_hash: str) -> LoginSession | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(sessions).where(sessions.c.id_hash == id_hash)).first()
        return _session_from_row(row) if row else None

    def touch_session(self, id_hash: str, now: dt.datetime) -> None:
        with self.engine.begin() as conn:
            stmt = sessions.update().where(sessions.c.id_hash == id_hash)
            conn.execute(stmt.values(last_seen=rows.to_naive_utc(now)))

    def delete_session(self, id_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.id_hash == id_hash))

    def delete_user_sessions(self, user_id: int) -> int:
        """End every session of the user; returns how many there were."""
        with self.engine.begin() as conn:
            return conn.execute(sessions.delete().where(sessions.c.user_id == user_id)).rowcount

    def count_user_sessions(self, user_id: int, now: dt.datetime, idle_since: dt.datetime) -> int:
        """The user's sessions neither past their end nor unused since `idle_since`."""
        stmt = sa.select(sa.func.count()).where(
            sessions.c.user_id == user_id,
            sessions.c.expires_at > rows.to_naive_utc(now),
            sessions.c.last_seen > rows.to_naive_utc(idle_since),
        )
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def delete_stale_sessions(self, now: dt.datetime, idle_since: dt.datetime) -> int:
        """Forget sessions past their end or unused since `idle_since`."""
        stale = sa.or_(
            sessions.c.expires_at <= rows.to_naive_utc(now),
            sessions.c.last_seen <= rows.to_naive_utc(idle_since),
        )
        with self.engine.begin() as conn:
            return conn.execute(sessions.delete().where(stale)).rowcount

    # -- failed log-ins ----------------------------------------------------------------------

    def locked_until(self, username: str) -> dt.datetime | None:
        """Until when log-ins as `username` (lower-cased) are refused, if they are."""
        stmt = sa.select(login_failures.c.locked_until).where(login_failures.c.username == username)
        with self.engine.connect() as conn:
            return rows.from_naive_utc(conn.execute(stmt).scalar())

    def record_login_failure(
        self, username: str, now: dt.datetime, forget_before: dt.datetime
    ) -> int:
        """Count one more failed log-in as `username` (lower-cased); failures older than
        `forget_before` are forgotten first (for every name). Returns the name's count."""
        try:
            return self._count_failure(username, now, forget_before)
        except sa.exc.IntegrityError:  # a concurrent first failure of the name inserted its row
            return self._count_failure(username, now, forget_before)

    def _count_failure(self, username: str, now: dt.datetime, forget_before: dt.datetime) -> int:
        naive = rows.to_naive_utc(now)
        with self.engine.begin() as conn:
            conn.execute(
                login_failures.delete().where(
                    login_failures.c.last_failure < rows.to_naive_utc(forget_before)
                )
            )
            where = login_failures.c.username == username
            done = conn.execute(
                login_failures.update()
                .where(where)
                .values(failures=login_failures.c.failures + 1, last_failure=naive)
            )
            if done.rowcount == 0:
                conn.execute(
                    login_failures.insert().values(
                        username=username, failures=1, last_failure=naive
                    )
                )
            count = conn.execute(sa.select(login_failures.c.failures).where(where)).scalar_one()
        return int(count)

    def lock_login(self, username: str, until: dt.datetime) -> None:
        with self.engine.begin() as conn:
            stmt = login_failures.update().where(login_failures.c.username == username)
            conn.execute(stmt.values(locked_until=rows.to_naive_utc(until)))

    def clear_login_failures(self, username: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(login_failures.delete().where(login_failures.c.username == username))
