"""The embedded default: one SQLite file in WAL mode; BM25 ranking and the text filters of
candidates by tantivy beside it, FTS5 for listings without words and multi-word author names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from paperfeed.query import Query
from paperfeed.store import sqlite_keyword
from paperfeed.store.migrations import Migration, sql_steps
from paperfeed.store.schema import CORE_TABLES, create_lookup_indexes, metadata
from paperfeed.store.sql import SqlStore
from paperfeed.store.subscriptions import create_digest_tables
from paperfeed.store.tantivy_keyword import TantivyKeywordIndex


def _create_core_tables(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=list(CORE_TABLES))


# Keyword index over title, abstract and authors. Tokenising is the slow part of an import
# (FTS5 takes ~2k abstracts/s here against ~40k plain rows/s), so new papers are indexed after
# the import by `catch_up_keyword_index`, which records in `fts_progress` the highest paper key
# indexed, in the same transaction as the index rows. Triggers apply changes to indexed papers.
# Porter stemming; accents folded; hyphenated words split into parts.
_FTS = sql_steps(
    """CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, abstract, authors, content='papers', content_rowid='key',
        tokenize="porter unicode61 remove_diacritics 2")""",
    """CREATE TABLE fts_progress (
        id INTEGER PRIMARY KEY CHECK (id = 1), indexed_through INTEGER NOT NULL)""",
    "INSERT INTO fts_progress (id, indexed_through) VALUES (1, 0)",
    """CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers
    WHEN old.key <= (SELECT indexed_through FROM fts_progress) BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.key, old.title, old.abstract, old.authors);
    END""",
    """CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, authors ON papers
    WHEN old.key <= (SELECT indexed_through FROM fts_progress) BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.key, old.title, old.abstract, old.authors);
        INSERT INTO papers_fts(rowid, title, abstract, authors)
        VALUES (new.key, new.title, new.abstract, new.authors);
    END""",
)

# Changes to papers the tantivy ranking index must re-read (see tantivy_keyword.py); new papers
# it finds by key, so only updates and deletions are logged.
_KEYWORD_CHANGES = sql_steps(
    """CREATE TABLE keyword_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, key INTEGER NOT NULL)""",
    """CREATE TRIGGER keyword_changes_update AFTER UPDATE OF
        title, abstract, authors, categories, published ON papers
    WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract
        OR old.authors IS NOT new.authors OR old.categories IS NOT new.categories
        OR old.published IS NOT new.published BEGIN
        INSERT INTO keyword_changes (key) VALUES (new.key);
    END""",
    """CREATE TRIGGER keyword_changes_delete AFTER DELETE ON papers BEGIN
        INSERT INTO keyword_changes (key) VALUES (old.key);
    END""",
)

# Hidden (moderated) papers are few: searches read their keys from this partial index and drop
# them from ranked candidates instead of looking every candidate up.
_HIDDEN_INDEX = sql_steps("CREATE INDEX ix_papers_hidden ON papers (key) WHERE hidden = 1")

MAX_FETCH = 20_000  # most ranked candidates fetched to fill a page when filters drop many

SQLITE_MIGRATIONS = [
    Migration(1, "core tables", _create_core_tables),
    Migration(2, "FTS5 keyword index", _FTS),
    Migration(3, "e-mail digest tables", create_digest_tables),
    Migration(4, "title and submission-time indexes", create_lookup_indexes),
    Migration(5, "change log of the tantivy ranking index", _KEYWORD_CHANGES),
    Migration(6, "index of hidden papers", _HIDDEN_INDEX),
]


class SqliteStore(SqlStore):
    migrations = SQLITE_MIGRATIONS

    @classmethod
    def open(cls, url: str) -> SqliteStore:
        path = url.removeprefix("sqlite:///")
        in_memory = not path or path == ":memory:"
        in_file = not in_memory and not path.startswith("file:")
        if in_file:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One shared connection for an in-memory database: each thread would get an empty one.
        pool = {"poolclass": sa.pool.StaticPool} if in_memory else {}
        engine = sa.create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **pool
        )
        sa.event.listen(engine, "connect", _configure_connection)
        sa.event.listen(engine, "begin", _begin_immediate)
        store = cls(engine)
        store.migrate()
        store.ranking = TantivyKeywordIndex(engine, Path(path + ".keywords") if in_file else None)
        return store

    def _bulk_insert(
        self, conn: sa.Connection, table: sa.Table, values: list[dict[str, Any]]
    ) -> None:
        """executemany straight on the driver: SQLAlchemy's per-row overhead dominated imports.

        Column types still convert values exactly as SQLAlchemy would (its bind processors).
        """
        columns = list(values[0])
        compiled = (
            table.insert()
            .values({c: sa.bindparam(c) for c in columns})
            .compile(dialect=conn.dialect)
        )
        processors = [
            (c, p)
            for c in columns
            if (p := table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect))
        ]
        for row in values:
            for column, process in processors:
                row[column] = process(row[column])
        order = compiled.positiontup or []  # SQLite's qmark style is positional
        conn.exec_driver_sql(str(compiled), [tuple(row[c] for c in order) for row in values])

    # -- search ------------------------------------------------------------------------------

    ranking: TantivyKeywordIndex

    def pending_keyword_rows(self) -> int:
        with self.engine.connect() as conn:
            in_fts = conn.exec_driver_sql(
                "SELECT count(*) FROM papers WHERE key > (SELECT indexed_through FROM fts_progress)"
            ).scalar_one()
        return in_fts + self.ranking.pending()

    def catch_up_keyword_index(
        self,
        *,
        batch_size: int = 5000,
        on_progress: Callable[[int], None] | None = None,
        rebuild: bool = False,
    ) -> int:
        """Add papers not yet in the FTS index (a batch per transaction), then bring the ranking
        index up to date (`rebuild`: from scratch); returns papers indexed (both counted)."""
        done = self._catch_up_fts(batch_size, on_progress)
        return done + self.ranking.sync(on_progress, rebuild=rebuild)

    def _catch_up_fts(self, batch_size: int, on_progress: Callable[[int], None] | None) -> int:
        done = 0
        while True:
            with self.transaction() as conn:
                through = conn.exec_driver_sql(
                    "SELECT indexed_through FROM fts_progress"
                ).scalar_one()
                last = conn.exec_driver_sql(
                    "SELECT max(key) FROM "
                    "(SELECT key FROM papers WHERE key > ? ORDER BY key LIMIT ?)",
                    (through, batch_size),
                ).scalar()
                if last is None:
                    return done
                added = conn.exec_driver_sql(
                    "INSERT INTO papers_fts(rowid, title, abstract, authors) "
                    "SELECT key, title, abstract, authors FROM papers WHERE key > ? AND key <= ?",
                    (through, last),
                ).rowcount
                conn.exec_driver_sql("UPDATE fts_progress SET indexed_through = ?", (last,))
            done += added
            if on_progress:
                on_progress(added)

    def keyword_search(self, query: Query, limit: int = 200) -> list[tuple[int, float]]:
        """Ranked by tantivy, without hidden papers and, for author names of several words,
        checked here that the words belong to one author (tantivy checks each word), fetching
        deeper while those checks drop candidates."""
        fetch = limit + 20
        while True:
            ranked = self.ranking.search(query, fetch)
            kept = self._visible_with_names([key for key, _ in ranked], query)
            hits = [(key, score) for key, score in ranked if key in kept]
            if len(hits) >= limit or len(ranked) < fetch or fetch >= MAX_FETCH:
                return hits[:limit]
            fetch *= 4

    def filter_keys(self, keys: Sequence[int], query: Query) -> set[int]:
        """Checked by tantivy (phrases, exclusions, authors, categories, dates), then as in
        keyword_search. Papers added in the last second may not be in tantivy yet."""
        if query.empty_range:
            return set()
        return self.ranking.filter(list(self._visible_with_names(keys, query)), query)

    def _visible_with_names(self, keys: Sequence[int], query: Query) -> set[int]:
        """`keys` of papers not hidden whose authors match the query's names of several words."""
        with self.engine.connect() as conn:
            hidden = set(conn.exec_driver_sql("SELECT key FROM papers WHERE hidden = 1").scalars())
        kept = [key for key in keys if key not in hidden]
        names = [a for a in query.authors if len(sqlite_keyword.name_tokens(a)) > 1]
        if not names or not kept:
            return set(kept)
        conditions = sqlite_keyword.filter_conditions(Query(raw="", authors=names), per_row=True)
        return self._keys_where(kept, conditions)

    def text_filter_conditions(self, query: Query) -> list[sa.ColumnElement[bool]]:
        return sqlite_keyword.filter_conditions(query, text_constraints=True)


def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself so writes can take the lock up front (see _begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(conn: sa.Connection) -> None:
    # BEGIN IMMEDIATE avoids the read-then-upgrade deadlock between concurrent writers.
    conn.exec_driver_sql("BEGIN IMMEDIATE")
