"""The content version: one counter that moves whenever something readers see changes.

Triggers (migration 13) bump the single row of ``content_version`` in the same transaction as
every insert, update or delete of papers, submissions, votes and embeddings, so every writer (the
web app, CLI imports, sync runs, background jobs, any process) moves it without knowing about
it, and a reader that sees the new number sees the change too. On PostgreSQL the bump is a
deferred constraint trigger run once per transaction at commit, so the row is locked only for
the instant of the commit (concurrent writers never wait on it while they work). Caches of
rendered pages (web/page_cache.py) key their entries by it.

`watch_sqlite(table)` / `watch_postgres(table)` give the statements that make a later table
move the version too (a migration of its own runs them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

# Tables whose rows pages, the API and feeds show (hiding is a column of papers/submissions).
WATCHED_TABLES = ("papers", "submissions", "votes", "embeddings")
# A change committed by this process is read back at once for this long (the commit event
# fires just before the database commits, so a read in between would see the old number).
LOCAL_COMMIT_GRACE = 1.0

_SQLITE_NOW = "(julianday('now') - 2440587.5) * 86400.0"
SQLITE_BUMP = (
    f"UPDATE content_version SET version = version + 1, changed_at = {_SQLITE_NOW} WHERE id = 1"
)


def watch_sqlite(table: str) -> list[str]:
    """Triggers that bump the version on every insert, update and delete of `table`."""
    return [
        f"""CREATE TRIGGER content_version_{table}_{event.lower()} AFTER {event} ON {table}
        BEGIN
            {SQLITE_BUMP};
        END"""
        for event in ("INSERT", "UPDATE", "DELETE")
    ]


def watch_postgres(table: str) -> list[str]:
    """A deferred trigger that bumps the version once per transaction that changes `table`."""
    return [
        f"""CREATE CONSTRAINT TRIGGER content_version_{table}
        AFTER INSERT OR UPDATE OR DELETE ON {table}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        EXECUTE FUNCTION paperfeed_bump_content_version()"""
    ]


SQLITE_STEPS = [
    """CREATE TABLE content_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL,
        changed_at REAL NOT NULL)""",
    f"INSERT INTO content_version (id, version, changed_at) VALUES (1, 1, {_SQLITE_NOW})",
    *(step for table in WATCHED_TABLES for step in watch_sqlite(table)),
]

POSTGRES_STEPS = [
    """CREATE TABLE content_version (
        id integer PRIMARY KEY CHECK (id = 1),
        version bigint NOT NULL,
        changed_at double precision NOT NULL)""",
    """INSERT INTO content_version (id, version, changed_at)
        VALUES (1, 1, extract(epoch FROM clock_timestamp()))""",
    # Once per transaction: the transaction-local setting remembers that it has bumped.
    """CREATE FUNCTION paperfeed_bump_content_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('paperfeed.content_bumped', true)
                IS DISTINCT FROM txid_current()::text THEN
            UPDATE content_version
            SET version = version + 1, changed_at = extract(epoch FROM clock_timestamp())
            WHERE id = 1;
            PERFORM set_config('paperfeed.content_bumped', txid_current()::text, true);
        END IF;
        RETURN NULL;
    END $$""",
    *(step for table in WATCHED_TABLES for step in watch_postgres(table)),
]

_READ = sa.text("SELECT version, changed_at FROM content_version WHERE id = 1")
_BUMP = sa.text("UPDATE content_version SET version = version + 1, changed_at = :now WHERE id = 1")


@dataclass(frozen=True, slots=True)
class ContentVersion:
    """The counter and when it last moved (seconds since the epoch, UTC)."""

    number: int
    changed_at: float


class ContentVersions:
    """Reads the content version, at most every `check_seconds` unless this process has
    committed a change since (then at once): other processes' changes show within
    `check_seconds`, this process's own at the next read."""

    def __init__(self, engine: Engine, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.monotonic = monotonic  # the clock of `current` (tests replace it)
        self._lock = threading.Lock()
        self._known: ContentVersion | None = None
        self._read_at = float("-inf")
        self._local_commit_at = float("-inf")
        sa.event.listen(engine, "commit", self._on_commit)

    def _on_commit(self, _conn: Connection) -> None:
        self._local_commit_at = self.monotonic()

    def read(self) -> ContentVersion:
        """The version now, from the database (one indexed single-row query)."""
        with self.engine.connect() as conn:
            row = conn.execute(_READ).one()
        return ContentVersion(int(row[0]), float(row[1]))

    def known(self, check_seconds: float) -> ContentVersion | None:
        """The version last read, while it may still be trusted: for `check_seconds` after
        the read, unless this process committed a change in the last LOCAL_COMMIT_GRACE
        seconds. None: `current` must read it."""
        now = self.monotonic()
        known = self._known
        if known is not None and now - self._read_at < check_seconds and not self.changed_here():
            return known
        return None

    def changed_here(self) -> bool:
        """Whether this process committed a change in the last LOCAL_COMMIT_GRACE seconds."""
        return self.monotonic() - self._local_commit_at <= LOCAL_COMMIT_GRACE

    def current(self, check_seconds: float) -> ContentVersion:
        """The version: `known(check_seconds)`, else read from the database."""
        known = self.known(check_seconds)
        if known is not None:
            return known
        now = self.monotonic()
        fresh = self.read()
        with self._lock:
            self._known, self._read_at = fresh, now
        return fresh


def bump(engine: Engine) -> None:
    """Move the version for a change the triggers do not see (the keyword index caught up)."""
    with engine.begin() as conn:
        conn.execute(_BUMP, {"now": time.time()})
