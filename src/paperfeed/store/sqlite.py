"""The embedded default: one SQLite file in WAL mode; BM25 ranking and the text filters of
candidates by tantivy beside it, FTS5 for listings without words and multi-word author names
(the papers area: sqlite_papers.py). The other areas are the shared ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa

from paperfeed import private_files
from paperfeed.store import content_version
from paperfeed.store.migrations import Migration, sql_steps
from paperfeed.store.paper_extras import add_paper_extras
from paperfeed.store.pending import create_pending_table
from paperfeed.store.reader_tables import create_reader_tables
from paperfeed.store.schema import CORE_TABLES, create_doi_index, create_lookup_indexes, metadata
from paperfeed.store.sessions import secure_accounts
from paperfeed.store.sources import create_sync_tables
from paperfeed.store.sql import SqlStore
from paperfeed.store.sqlite_bulk import (
    SqliteBulkLoad,
    bulk_load_running,
    restore_deferred_indexes,
)
from paperfeed.store.sqlite_papers import SqlitePaperStore
from paperfeed.store.subscriptions import (
    add_link_generations_and_mail_log,
    create_digest_tables,
)
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
# them from ranked candidates instead of looking every candidate up (see tantivy_papers.py).
_HIDDEN_INDEX = sql_steps("CREATE INDEX ix_papers_hidden ON papers (key) WHERE hidden = 1")

# The ranking index also filters on whether a paper has code: a changed code link is logged too.
_CODE_URL_CHANGES = sql_steps(
    "DROP TRIGGER keyword_changes_update",
    """CREATE TRIGGER keyword_changes_update AFTER UPDATE OF
        title, abstract, authors, categories, published, code_url ON papers
    WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract
        OR old.authors IS NOT new.authors OR old.categories IS NOT new.categories
        OR old.published IS NOT new.published OR old.code_url IS NOT new.code_url BEGIN
        INSERT INTO keyword_changes (key) VALUES (new.key);
    END""",
)


def _paper_extras(conn: sa.Connection) -> None:
    add_paper_extras(conn)
    _CODE_URL_CHANGES(conn)


SQLITE_MIGRATIONS = [
    Migration(1, "core tables", _create_core_tables),
    Migration(2, "FTS5 keyword index", _FTS),
    Migration(3, "e-mail digest tables", create_digest_tables),
    Migration(4, "title and submission-time indexes", create_lookup_indexes),
    Migration(5, "change log of the tantivy ranking index", _KEYWORD_CHANGES),
    Migration(6, "index of hidden papers", _HIDDEN_INDEX),
    Migration(7, "sessions, log-in failures, case-insensitive accounts", secure_accounts),
    Migration(8, "link generations, e-mails sent on request", add_link_generations_and_mail_log),
    Migration(9, "submissions waiting for arXiv", create_pending_table),
    Migration(10, "followed sources and sync runs", create_sync_tables),
    Migration(11, "HF fields, code links, keywords", _paper_extras),
    Migration(12, "collections, library, feedback, follows", create_reader_tables),
    Migration(13, "content version (page caches)", sql_steps(*content_version.SQLITE_STEPS)),
    Migration(14, "DOI index", create_doi_index),
]


class SqliteStore(SqlStore):
    """The store in one SQLite file; its papers area is SqlitePaperStore."""

    migrations = SQLITE_MIGRATIONS
    papers: SqlitePaperStore

    def __init__(self, engine: sa.Engine, ranking: TantivyKeywordIndex) -> None:
        super().__init__(engine, papers=SqlitePaperStore(engine, ranking))
        self.ranking = ranking  # the tantivy index beside the file (also `papers.ranking`)

    @classmethod
    def open(cls, url: str) -> Self:
        path = url.removeprefix("sqlite:///")
        in_memory = not path or path == ":memory:"
        in_file = not in_memory and not path.startswith("file:")
        if in_file:
            _create_private(Path(path))
        # One shared connection for an in-memory database: each thread would get an empty one.
        pool: dict[str, Any] = {"poolclass": sa.pool.StaticPool} if in_memory else {}
        engine = sa.create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **pool
        )
        engine._connection_cls = _SqliteConnection
        sa.event.listen(engine, "connect", _configure_connection)
        sa.event.listen(engine, "begin", _begin)
        store = cls(
            engine, TantivyKeywordIndex(engine, Path(path + ".keywords") if in_file else None)
        )
        store.migrate()
        if not bulk_load_running(store):
            restore_deferred_indexes(store)  # after a bulk load that was killed
        return store

    def bulk_load(self, *, expected_papers: int) -> SqliteBulkLoad:
        return SqliteBulkLoad(self, expected_papers=expected_papers)


def _create_private(path: Path) -> None:
    """The database file readable by this user only, created so before SQLite opens it: SQLite
    gives its -wal and -shm files the database file's mode."""
    private_files.make_dir(path.parent)
    private_files.create_file(path)
    for suffix in ("-wal", "-shm"):
        private_files.tighten(path.with_name(path.name + suffix), private_files.FILE_MODE)


class _SqliteConnection(sa.Connection):
    """A connection that knows whether its transaction was begun implicitly, by the first
    statement of an `engine.connect()` block: in this store such blocks only read (every write
    is in an explicit `engine.begin()` / `conn.begin()` transaction)."""

    autobegun = False

    def _autobegin(self) -> None:
        self.autobegun = True
        try:
            super()._autobegin()
        finally:
            self.autobegun = False


def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself so writes can take the lock up front (see _begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin(conn: sa.Connection) -> None:
    # A write takes the write lock up front (BEGIN IMMEDIATE): that avoids the read-then-upgrade
    # deadlock between concurrent writers. A read begins DEFERRED: in WAL mode it reads its
    # snapshot while a writer (an import, a sync) holds the lock, instead of waiting for it.
    reading = isinstance(conn, _SqliteConnection) and conn.autobegun
    conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
