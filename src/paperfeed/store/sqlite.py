"""The embedded default: one SQLite file in WAL mode, BM25 keyword search with FTS5."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from paperfeed.store.migrations import Migration, sql_steps
from paperfeed.store.schema import CORE_TABLES, metadata
from paperfeed.store.sql import SqlStore


def _create_core_tables(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=list(CORE_TABLES))


# Keyword index over title, abstract and authors, kept in step with `papers` by triggers in the same
# transaction as every write. Porter stemming; accents folded; hyphenated words split into parts.
_FTS = sql_steps(
    """CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, abstract, authors, content='papers', content_rowid='key',
        tokenize="porter unicode61 remove_diacritics 2")""",
    """CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
        INSERT INTO papers_fts(rowid, title, abstract, authors)
        VALUES (new.key, new.title, new.abstract, new.authors);
    END""",
    """CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.key, old.title, old.abstract, old.authors);
    END""",
    """CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, authors ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.key, old.title, old.abstract, old.authors);
        INSERT INTO papers_fts(rowid, title, abstract, authors)
        VALUES (new.key, new.title, new.abstract, new.authors);
    END""",
)

SQLITE_MIGRATIONS = [
    Migration(1, "core tables", _create_core_tables),
    Migration(2, "FTS5 keyword index", _FTS),
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
