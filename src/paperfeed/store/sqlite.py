"""The embedded default: one SQLite file in WAL mode, BM25 keyword search with FTS5."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from paperfeed.store import sqlite_keyword
from paperfeed.store.migrations import Migration, sql_steps
from paperfeed.store.schema import CORE_TABLES, create_lookup_indexes, metadata
from paperfeed.store.sql import SqlStore
from paperfeed.store.subscriptions import create_digest_tables

if TYPE_CHECKING:
    from paperfeed.search.query import Query


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

SQLITE_MIGRATIONS = [
    Migration(1, "core tables", _create_core_tables),
    Migration(2, "FTS5 keyword index", _FTS),
    Migration(3, "e-mail digest tables", create_digest_tables),
    Migration(4, "title and submission-time indexes", create_lookup_indexes),
]


class SqliteStore(SqlStore):
    migrations = SQLITE_MIGRATIONS

    @classmethod
    def open(cls, url: str) -> SqliteStore:
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        sa.event.listen(engine, "connect", _configure_connection)
        sa.event.listen(engine, "begin", _begin_immediate)
        store = cls(engine)
        store.migrate()
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

    def pending_keyword_rows(self) -> int:
        with self.engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT count(*) FROM papers WHERE key > (SELECT indexed_through FROM fts_progress)"
            ).scalar_one()

    def catch_up_keyword_index(
        self, *, batch_size: int = 5000, on_progress: Callable[[int], None] | None = None
    ) -> int:
        """Add papers not yet in the FTS index, a batch per transaction; returns how many."""
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
        with self.engine.connect() as conn:
            return sqlite_keyword.keyword_search(conn, query, limit)

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
