"""BM25 ranking for the PostgreSQL store: a tantivy index on each node, kept in step with the
database through a change log, so PostgreSQL ranks exactly as the embedded default does (the
same analyzer, shards and BM25: tantivy_keyword.py).

Why not in the database: no BM25 index extension is installable here (pgserver's PostgreSQL 16
ships pgvector alone; Debian's packages have RUM, which orders by ts_rank, not BM25), and
ts_rank over a GIN match read every matching row (p95 ~800 ms at 1M papers).

The log: triggers (migration 15) add a row to ``keyword_changes`` for every paper inserted,
deleted, or changed in what the index holds, with the id of the writing transaction. Keys and
log rows of concurrent transactions commit out of order, so a node's position is not a key or a
row number but the snapshot it last read the log in (``pg_current_snapshot()``): it next applies
the rows visible now that were not visible in that snapshot, so each commit is applied once,
whatever the order, and a long transaction elsewhere holds nothing up.

Many nodes read one log, so applying it deletes nothing: rows older than LOG_KEEP are pruned by
whichever node syncs, and ``keyword_log.pruned_through`` says up to where. A node whose
position is at or below that rebuilds from the papers table. A node builds from scratch (a first
start, a rebuild) by noting its position first, then indexing every paper by key (resumable: the
marker keeps the highest key committed), then applying the log from that position.

Where: one folder per database (``keyword_log.database``, a random id made by the migration, and
the database's oid, as template copies share the id) under ``keyword_index_dir``. Worker
processes on one node share it: one writes at a time (tantivy's lock), the others reload when
the marker file changes. Until a node's index is built, searches use PostgreSQL's own tsvector
search (postgres_keyword.py) while a background thread builds it, so a fresh node serves at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import tantivy

from paperfeed.store.migrations import sql_steps
from paperfeed.store.tantivy_keyword import (
    CHECK_SECONDS,
    PAPER_COLUMNS,
    SHARDS,
    TantivyKeywordIndex,
)

log = logging.getLogger(__name__)

LOG_KEEP = dt.timedelta(days=7)  # log rows older than this are pruned
INLINE_CHANGES = 5_000  # logged changes a search applies itself; beyond, a background thread
CHANGES_CHUNK = 5_000  # changed papers read per query while applying the log

_LOGGED = "title, abstract, authors, categories, published, code_url"  # what the index holds

# Migration 15. Statement-level triggers with transition tables: a bulk import logs its rows
# in one INSERT ... SELECT per statement, not one trigger call per row.
LOG_STEPS = sql_steps(
    """CREATE TABLE keyword_changes (
        xid bigint NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
        key bigint NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX ix_keyword_changes_xid ON keyword_changes (xid)",
    "CREATE INDEX ix_keyword_changes_changed_at ON keyword_changes (changed_at)",
    """CREATE TABLE keyword_log (
        id integer PRIMARY KEY CHECK (id = 1),
        database uuid NOT NULL DEFAULT gen_random_uuid(),
        pruned_through bigint NOT NULL DEFAULT 0)""",
    "INSERT INTO keyword_log (id) VALUES (1)",
    """CREATE FUNCTION paperfeed_log_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO keyword_changes (key) SELECT key FROM added_rows; RETURN NULL; END $$""",
    f"""CREATE FUNCTION paperfeed_log_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO keyword_changes (key)
        SELECT n.key FROM new_rows n JOIN old_rows o ON o.key = n.key
        WHERE (o.{_LOGGED.replace(", ", ", o.")}) IS DISTINCT FROM
              (n.{_LOGGED.replace(", ", ", n.")});
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION paperfeed_log_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO keyword_changes (key) SELECT key FROM removed_rows; RETURN NULL; END $$""",
    """CREATE TRIGGER keyword_changes_insert AFTER INSERT ON papers
        REFERENCING NEW TABLE AS added_rows
        FOR EACH STATEMENT EXECUTE FUNCTION paperfeed_log_added()""",
    """CREATE TRIGGER keyword_changes_update AFTER UPDATE ON papers
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION paperfeed_log_changed()""",
    """CREATE TRIGGER keyword_changes_delete AFTER DELETE ON papers
        REFERENCING OLD TABLE AS removed_rows
        FOR EACH STATEMENT EXECUTE FUNCTION paperfeed_log_removed()""",
)


def database_id(engine: sa.Engine) -> str:
    """This database's name for its index folder: its log's random id and its oid."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT database::text, (SELECT oid FROM pg_database "
                "WHERE datname = current_database()) FROM keyword_log"
            )
        ).one()
    return f"{row[0]}-{row[1]}"


def _snapshot(conn: sa.Connection) -> str:
    """The current snapshot (``xmin:xmax:running,...``): what a node has seen of the log."""
    return str(conn.execute(sa.text("SELECT pg_current_snapshot()::text")).scalar_one())


def _xmin(snapshot: str) -> int:
    """The oldest transaction running in `snapshot`: log rows below it were all visible."""
    return int(snapshot.split(":", 1)[0])


# Log rows a node that saw the log in snapshot :seen has not applied (in the reading snapshot).
_UNSEEN = (
    "FROM keyword_changes WHERE xid >= :xmin "
    "AND NOT pg_visible_in_snapshot(xid::text::xid8, CAST(:seen AS pg_snapshot))"
)


class PostgresTantivyIndex(TantivyKeywordIndex):
    """The BM25 index of one PostgreSQL database on this node, under `root`."""

    def __init__(self, engine: sa.Engine, root: Path) -> None:
        self.database = database_id(engine)
        self._background: threading.Thread | None = None
        super().__init__(engine, root / self.database)

    # -- where this node stands --------------------------------------------------------------

    def _current(self) -> dict[str, Any] | None:
        """The marker when it is this database's (None: build from scratch)."""
        marker = self._marker()
        if marker is None or marker.get("database") != self.database:
            return None
        return marker

    def built(self) -> bool:
        """Whether the index holds every paper (as of its position in the log)."""
        marker = self._current()
        return bool(marker and marker["built"])

    def pending(self) -> int:
        """Papers not indexed yet while building, plus log rows not applied yet."""
        marker = self._current()
        if marker is None:
            return self._papers_above(0)
        with self.engine.connect() as conn:
            logged = conn.execute(
                sa.text(f"SELECT count(*) {_UNSEEN}"),
                {"xmin": _xmin(marker["seen"]), "seen": marker["seen"]},
            ).scalar_one()
        waiting = 0 if marker["built"] else self._papers_above(marker["through"])
        return waiting + int(logged)

    def prune_log(self, older_than: dt.timedelta = LOG_KEEP) -> int:
        """Delete log rows older than `older_than`, noting up to which transaction the log is
        pruned (nodes at or below it rebuild); returns rows deleted."""
        with self.engine.begin() as conn:
            pruned = conn.execute(
                sa.text(
                    "WITH gone AS (DELETE FROM keyword_changes WHERE changed_at < now() - :age "
                    "RETURNING xid) SELECT count(*), max(xid) FROM gone"
                ),
                {"age": older_than},
            ).one()
            if pruned[0]:
                conn.execute(
                    sa.text(
                        "UPDATE keyword_log SET pruned_through = greatest(pruned_through, :xid)"
                    ),
                    {"xid": pruned[1]},
                )
        return int(pruned[0])

    def _pruned_past(self, marker: dict[str, Any]) -> bool:
        with self.engine.connect() as conn:
            pruned = conn.execute(sa.text("SELECT pruned_through FROM keyword_log")).scalar_one()
        return bool(_xmin(marker["seen"]) <= pruned)

    # -- keeping in step ---------------------------------------------------------------------

    def _sync(
        self,
        writers: list[tantivy.IndexWriter],
        marker: dict[str, Any] | None,
        on_progress: Callable[[int], None] | None,
        rebuild: bool,
        commit_every: int,
    ) -> int:
        marker = self._current()
        fresh = (
            rebuild
            or marker is None
            or self._pruned_past(marker)
            or (not marker["built"] and self._behind_store_reset(marker))
        )
        if marker is None or fresh:
            for writer in writers:
                writer.delete_all_documents()
            with self.engine.connect() as conn:
                marker = {"database": self.database, "seen": _snapshot(conn), "through": 0}
            marker["built"] = False
        done = 0
        if not marker["built"]:
            done = self._build(writers, marker, on_progress, commit_every, fresh)
        done += self._apply_log(writers, marker, on_progress)
        self.prune_log()
        return done

    def _build(
        self,
        writers: list[tantivy.IndexWriter],
        marker: dict[str, Any],
        on_progress: Callable[[int], None] | None,
        commit_every: int,
        fresh: bool,
    ) -> int:
        """Index every paper above the marker's key (a build, or the rest of one)."""
        for writer in writers:  # left from a commit whose marker was lost
            writer.delete_documents_by_query(self._keys_above(marker["through"]))

        def save(through: int) -> None:
            marker["through"] = through
            self._save_marker(**marker)

        with self.engine.connect() as conn:
            done = self._add_papers_above(
                conn,
                writers,
                marker["through"],
                save,
                commit_every=commit_every,
                on_progress=on_progress,
                uncommitted=int(fresh),  # a fresh start commits its emptied index
            )
        marker["built"] = True
        return done

    def _apply_log(
        self,
        writers: list[tantivy.IndexWriter],
        marker: dict[str, Any],
        on_progress: Callable[[int], None] | None,
    ) -> int:
        """Re-read the papers logged since the marker's snapshot (deleted ones go), commit,
        then move the marker to the snapshot the log was read in."""
        done = 0
        with (
            self.engine.connect().execution_options(isolation_level="REPEATABLE READ") as log_conn,
            self.engine.connect() as rows_conn,
        ):
            seen = _snapshot(log_conn)  # the snapshot of this transaction: the next query's too
            changed = log_conn.execution_options(yield_per=CHANGES_CHUNK).execute(
                sa.text(f"SELECT DISTINCT key {_UNSEEN}"),
                {"xmin": _xmin(marker["seen"]), "seen": marker["seen"]},
            )
            for partition in changed.partitions():
                keys = [key for (key,) in partition]
                for key in keys:
                    writers[key % SHARDS].delete_documents_by_term("key", key)
                rows = rows_conn.execute(
                    sa.text(f"SELECT {PAPER_COLUMNS} FROM papers WHERE key = ANY(:keys)"),
                    {"keys": keys},
                ).all()
                self._add(writers, rows)
                done += len(keys)
                if on_progress:
                    on_progress(len(keys))
        if done:
            for writer in writers:
                writer.commit()
        marker["seen"] = seen
        self._save_marker(**marker)
        return done

    # -- searching while building ------------------------------------------------------------

    def usable(self) -> bool:
        """Whether searches can use this index now; if not, one is being built or brought up to
        date in the background (searches then use PostgreSQL's own)."""
        self._refresh()
        return self.built()

    def _refresh(self) -> None:
        """At most every CHECK_SECONDS: apply a few logged changes here, leave more (or a
        build) to a background thread, and see other processes' commits."""
        now = time.monotonic()
        if now - self._checked_at < CHECK_SECONDS:
            return
        self._checked_at = now
        if self._background is not None and self._background.is_alive():
            waiting = 0  # being caught up already
        else:
            waiting = self.pending() if self.built() else INLINE_CHANGES + 1
        if 0 < waiting <= INLINE_CHANGES:
            self.sync()
        elif waiting:
            self._sync_in_background()
        self._reload_if_committed()

    def _sync_in_background(self) -> None:
        if self._background is not None and self._background.is_alive():
            return
        self._background = threading.Thread(
            target=self._sync_logged, name="paperfeed-keyword-index", daemon=True
        )
        self._background.start()

    def _sync_logged(self) -> None:
        try:
            self.sync()
        except Exception:  # the next search tries again; PostgreSQL's search serves meanwhile
            log.exception("keyword index %s: catching up failed", self.path)

    def close(self) -> None:
        """Wait for a background catch-up to finish."""
        if self._background is not None:
            self._background.join()
