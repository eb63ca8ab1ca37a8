"""Bulk loads of papers into SQLite: one connection, a transaction per checkpoint, and less work
per row while the load runs.

- Secondary indexes of ``papers`` (not the unique id) are dropped for a load into a store that
  is small next to it and built again at the end: one sort instead of a B-tree insert per row
  and index. Their definitions are saved in ``ingest_state`` in the transaction that drops them,
  so a load killed half-way leaves them recorded, and the next open of the store builds them.
  A load holds a lock file beside the database (``<db>.bulk-load``) while it runs: a process that
  opens the store meanwhile (a web server, `paperfeed status`) leaves the indexes to it, and a
  second bulk load waits for the first.
- The content-version trigger on inserted papers is dropped at the start of each transaction and
  created again before it commits, with one bump of the version instead of one per row: the same
  transaction, so readers never see papers without the version moving, and a kill rolls both back.
- A larger page cache for the writer while it loads.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Self

import sqlalchemy as sa

from paperfeed.store.content_version import SQLITE_BUMP
from paperfeed.store.paper_rows import EncodedPaper, PaperRowCodec
from paperfeed.store.papers import PaperStore, UpsertCounts
from paperfeed.store.sql import SqlStore

log = logging.getLogger(__name__)

DEFERRED_INDEXES = "sqlite:deferred_indexes"  # ingest_state key: {name: CREATE INDEX ...}
INSERT_TRIGGER = "content_version_papers_insert"
LOAD_CACHE_KIB = 64 * 1024  # the writer's page cache while it loads


class SqliteBulkLoad:
    """A bulk load of encoded papers (see the module docstring); a context manager.

    `write` adds a batch in the open transaction, `commit` saves a checkpoint with everything
    before it; leaving the block commits, or rolls back on an error, and builds the deferred
    indexes either way.
    """

    def __init__(self, store: SqlStore, *, expected_papers: int) -> None:
        self.store = store
        self.papers: PaperStore = store.papers
        self.codec = PaperRowCodec(store.engine.dialect)
        self.dialect = store.engine.dialect.name
        self.expected_papers = expected_papers
        self._conn: sa.Connection | None = None
        self._transaction: sa.RootTransaction | None = None
        self._trigger_sql: str | None = None
        self._inserted = False
        self._running: int | None = None  # the lock file's descriptor while the load runs

    def __enter__(self) -> Self:
        lock = _lock_path(self.store)
        if lock is not None:
            self._running = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._running, fcntl.LOCK_EX)  # after another bulk load, if one runs
        if self.expected_papers >= self.papers.count_papers():
            defer_indexes(self.store)
        self._conn = self.store.engine.connect()
        self._begin()
        self._conn.exec_driver_sql(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        conn, transaction = self._connection()
        try:
            if error is None:
                self._restore_trigger()
                transaction.commit()
            else:
                transaction.rollback()
        finally:
            conn.invalidate()  # not back to the pool with the larger cache
            conn.close()
        try:
            restore_deferred_indexes(self.store)
        finally:
            if self._running is not None:
                os.close(self._running)  # releases the lock

    def write(self, batch: list[EncodedPaper]) -> UpsertCounts:
        conn, _ = self._connection()
        counts = self.papers.upsert_encoded(batch, self.codec, conn)
        self._inserted = self._inserted or counts.new > 0
        return counts

    def commit(self, key: str, value: str | None) -> None:
        """Save the position `value` under `key` with every batch written so far."""
        conn, transaction = self._connection()
        self.store.set_state(key, value, conn)
        self._restore_trigger()
        transaction.commit()
        self._begin()

    def _begin(self) -> None:
        conn = self._conn
        assert conn is not None
        self._transaction = conn.begin()
        self._trigger_sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (INSERT_TRIGGER,)
        ).scalar()
        if self._trigger_sql:
            conn.exec_driver_sql(f"DROP TRIGGER {INSERT_TRIGGER}")
        self._inserted = False

    def _restore_trigger(self) -> None:
        conn, _ = self._connection()
        if self._trigger_sql:
            conn.exec_driver_sql(self._trigger_sql)
            if self._inserted:
                conn.exec_driver_sql(SQLITE_BUMP)

    def _connection(self) -> tuple[sa.Connection, sa.RootTransaction]:
        if self._conn is None or self._transaction is None:
            raise RuntimeError("use SqliteBulkLoad in a with block")
        return self._conn, self._transaction


def defer_indexes(store: SqlStore) -> None:
    """Drop the secondary indexes of ``papers``, recording them to be built again."""
    with store.transaction() as conn:
        found = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'papers' "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
        ).all()
        saved = json.loads(_saved_indexes(conn) or "{}")
        saved.update({name: sql for name, sql in found})
        for name, _ in found:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        if saved:
            store.set_state(DEFERRED_INDEXES, json.dumps(saved), conn)
    if found:
        log.info("bulk load: indexes %s deferred", ", ".join(name for name, _ in found))


def restore_deferred_indexes(store: SqlStore) -> None:
    """Build the indexes a bulk load deferred, if any (after the load, or after it was killed)."""
    if store.get_state(DEFERRED_INDEXES) is None:
        return
    with store.transaction() as conn:
        for name, sql in json.loads(_saved_indexes(conn) or "{}").items():
            log.info("building index %s", name)
            conn.exec_driver_sql(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        store.set_state(DEFERRED_INDEXES, None, conn)


def bulk_load_running(store: SqlStore) -> bool:
    """Whether a bulk load (in any process) holds this store's lock file now."""
    lock = _lock_path(store)
    if lock is None or not lock.exists():
        return False
    descriptor = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # also releases a lock just taken
    return False


def _lock_path(store: SqlStore) -> Path | None:
    database = store.engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database + ".bulk-load")


def _saved_indexes(conn: sa.Connection) -> str | None:
    saved: str | None = conn.exec_driver_sql(
        "SELECT value FROM ingest_state WHERE key = ?", (DEFERRED_INDEXES,)
    ).scalar()
    return saved
