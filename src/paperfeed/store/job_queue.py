"""The job queue's tables (PostgreSQL only): procrastinate's schema beside paperfeed's, the names
of the jobs paperfeed defers, deferring one, and counts for operators.

Background work on PostgreSQL runs as procrastinate jobs in the same database: any process with
the store defers them (a web request adds a row, nothing more) and ``paperfeed worker``
processes, on any machine, run them (their code is in paperfeed.jobs). The schema is
procrastinate's own, installed on store opening (``paperfeed migrate`` included) and brought
to the installed procrastinate's version with its migration files.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
import threading
from enum import StrEnum
from pathlib import Path
from typing import Any

import procrastinate
import psycopg
import sqlalchemy as sa
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import Connection, Engine

from paperfeed.errors import Conflict

log = logging.getLogger(__name__)

JOBS_TABLE = "procrastinate_jobs"
COMMENT = "installed by paperfeed: procrastinate "  # + the version, on JOBS_TABLE
LIVE_WORKER_SECONDS = 60
_MIGRATION = re.compile(r"^(\d+)\.(\d+)\.(\d+)_(\d+)_.*\.sql$")


class Task(StrEnum):
    """The jobs paperfeed runs in the queue (the procrastinate task names)."""

    EMBED = "paperfeed.embed"  # embed new and changed papers (one at a time)
    DIGEST = "paperfeed.digest"  # choose the digest dates and defer their batches
    DIGEST_BATCH = "paperfeed.digest_batch"  # send one date's digests to a range of subscribers
    RETRY_SUBMISSIONS = "paperfeed.retry_submissions"  # look up submissions waiting for arXiv
    SYNC_DUE = "paperfeed.sync_due"  # defer the sync of each due source of one kind
    SYNC_SOURCE = "paperfeed.sync_source"  # fetch one followed source
    RETRY_STALLED = "paperfeed.retry_stalled"  # retry the jobs of workers that stopped
    FORGET_FINISHED = "paperfeed.forget_finished"  # drop finished jobs older than a week


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def installed_version() -> tuple[int, ...]:
    return _version(importlib.metadata.version("procrastinate"))


def _migrations_after(version: tuple[int, ...]) -> list[Path]:
    """procrastinate's migration files newer than `version`, oldest first."""
    found = []
    for path in Path(SchemaManager.get_migrations_path()).glob("*.sql"):
        match = _MIGRATION.match(path.name)
        if match and tuple(int(g) for g in match.groups()[:3]) > version:
            found.append((tuple(int(g) for g in match.groups()), path))
    return [path for _, path in sorted(found)]


def apply_schema(conn: Connection) -> None:
    """Install procrastinate's schema, or upgrade it to the installed procrastinate, once: the
    caller holds the migration lock. The version installed is the comment of its jobs table."""
    current = installed_version()
    installed = conn.execute(sa.text(f"SELECT to_regclass('{JOBS_TABLE}')")).scalar()
    recorded = None
    if installed is not None:
        comment = conn.execute(
            sa.text(f"SELECT obj_description('{JOBS_TABLE}'::regclass, 'pg_class')")
        ).scalar()
        recorded = (
            _version(comment[len(COMMENT) :]) if comment and comment.startswith(COMMENT) else None
        )
        if recorded is None:  # installed by hand, at a version we cannot know: its installer's
            log.warning(
                "procrastinate's tables exist but paperfeed did not install them: keep them at "
                "procrastinate %s yourself (procrastinate schema --migrations-path)",
                ".".join(map(str, current)),
            )
            return
        if recorded >= current:
            return
    driver = conn.connection.driver_connection  # runs a whole script; '%' is not a placeholder
    assert driver is not None
    if recorded is None:
        log.info("installing the job queue schema (procrastinate %s)", ".".join(map(str, current)))
        driver.execute(SchemaManager.get_schema())
    else:
        for path in _migrations_after(recorded):
            log.info("job queue schema: applying %s", path.name)
            try:
                driver.execute(path.read_text())
            except psycopg.Error as error:  # the caller's transaction rolls the upgrade back
                raise Conflict(
                    "upgrading the job queue's schema from procrastinate "
                    f"{'.'.join(map(str, recorded))} to {'.'.join(map(str, current))} failed at "
                    f"{path.name}: {error}; the database is unchanged (see procrastinate's "
                    "migration notes for this step, or `procrastinate schema --migrations-path`)"
                ) from error
    version = ".".join(map(str, current))
    conn.execute(sa.text(f"COMMENT ON TABLE {JOBS_TABLE} IS '{COMMENT}{version}'"))


def conninfo(engine: Engine) -> str:
    """The libpq address of `engine`'s database, for procrastinate's psycopg connectors."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class JobQueue:
    """Defers jobs into the queue and counts them; opens its two connections on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._app: procrastinate.App | None = None
        self._opening = threading.Lock()

    @property
    def conninfo(self) -> str:
        """The database's libpq address, for a worker's own procrastinate connector."""
        return conninfo(self.engine)

    def _opened(self) -> procrastinate.App:
        with self._opening:
            if self._app is None:
                connector = procrastinate.SyncPsycopgConnector(
                    conninfo=self.conninfo, min_size=1, max_size=2
                )
                self._app = procrastinate.App(connector=connector).open()
            return self._app

    def defer(
        self,
        task: Task,
        *,
        lock: str | None = None,
        queueing_lock: str | None = None,
        **arguments: Any,
    ) -> int | None:
        """Add a job running `task` with `arguments` (JSON values); returns its id, or None
        when a job with the same `queueing_lock` is waiting already. Jobs sharing a `lock` run
        one at a time."""
        deferrer = self._opened().configure_task(
            name=task.value, lock=lock, queueing_lock=queueing_lock
        )
        try:
            return deferrer.defer(**arguments)
        except AlreadyEnqueued:
            return None

    def embed_soon(self) -> int | None:
        """Defer an embedding pass, unless one is waiting already; one runs at a time."""
        return self.defer(Task.EMBED, lock=Task.EMBED, queueing_lock=Task.EMBED)

    def counts(self) -> dict[str, int]:
        """Jobs per "task status" (e.g. ``paperfeed.embed succeeded``), and the workers that
        sent a heartbeat in the last LIVE_WORKER_SECONDS."""
        with self.engine.connect() as conn:
            by_status = conn.execute(
                sa.text(
                    "SELECT task_name, status::text, count(*) FROM procrastinate_jobs "
                    "GROUP BY task_name, status ORDER BY task_name, status"
                )
            ).all()
            workers = conn.execute(
                sa.text(
                    "SELECT count(*) FROM procrastinate_workers "
                    "WHERE last_heartbeat > now() - make_interval(secs => :seconds)"
                ),
                {"seconds": LIVE_WORKER_SECONDS},
            ).scalar()
        counts = {f"{task} {status}": int(n) for task, status, n in by_status}
        counts["workers"] = int(workers or 0)
        return counts

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None
