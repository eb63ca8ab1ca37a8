"""The server backend: PostgreSQL (13+) with pgvector, for several web workers and machines.

Compared with SQLite: keywords are ranked by a tantivy index on each node (postgres_tantivy.py),
kept in step through a change log in the database; until a node's index is built, and for author
names of several words, the stored generated ``tsvector`` column with a GIN index serves
(postgres_keyword.py). Embeddings are also kept as pgvector ``vector`` values
with an HNSW cosine index per dimension, so nearest-neighbour search runs in the database and no
ANN index file is kept on local disk. Migrations and the embedding ``seq`` counter are serialised
with advisory locks, so any number of processes may start and write at once.

The areas that differ: papers (keyword search by postgres_keyword.py), community (races that
SQLite's write lock rules out) and embeddings (postgres_embeddings.py); subscriptions are shared.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import sqlalchemy as sa

from paperfeed.config import load_settings
from paperfeed.errors import Conflict
from paperfeed.models import Submission
from paperfeed.query import Query
from paperfeed.store import content_version, postgres_keyword
from paperfeed.store.community import CommunityStore
from paperfeed.store.job_queue import JobQueue
from paperfeed.store.job_queue import apply_schema as apply_job_queue_schema
from paperfeed.store.migrations import Migration, sql_steps
from paperfeed.store.paper_extras import add_paper_extras
from paperfeed.store.pending import create_pending_table
from paperfeed.store.postgres_embeddings import PostgresEmbeddingStore
from paperfeed.store.postgres_tantivy import LOG_STEPS, PostgresTantivyIndex
from paperfeed.store.reader_tables import create_reader_tables
from paperfeed.store.schema import CORE_TABLES, create_doi_index, create_lookup_indexes, metadata
from paperfeed.store.sessions import secure_accounts
from paperfeed.store.sources import create_sync_tables
from paperfeed.store.sql import SqlStore
from paperfeed.store.subscriptions import (
    add_link_generations_and_mail_log,
    create_digest_tables,
)
from paperfeed.store.tantivy_papers import TantivyPaperStore

POOL_SIZE = 10  # connections kept open per process (each web worker is a process)
MAX_OVERFLOW = 20  # extra connections under bursts


def driver_url(url: str) -> str:
    """`url` (postgres://, postgresql://, postgresql+driver://) for SQLAlchemy's psycopg 3."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgres", "postgresql"):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return f"postgresql+psycopg://{rest}"


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for `name`."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


_MIGRATION_LOCK = lock_key("paperfeed.migrations")
_SEQ_LOCK = lock_key("paperfeed.embeddings.seq")


def _create_core_tables(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=list(CORE_TABLES))


# Keyword index. paperfeed_fold drops accents (NFD, combining marks removed) and turns ASCII
# punctuation into spaces (hyphenated words become phrases, as with SQLite's unicode61); the
# `paperfeed` configuration stems English words (Snowball) and keeps stop words, so phrases like
# "state of the art" match exactly. postgres_keyword.fold() is the same in Python.
_KEYWORD_INDEX = sql_steps(
    "CREATE TEXT SEARCH DICTIONARY paperfeed_stem (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION paperfeed (COPY = english)",
    """ALTER TEXT SEARCH CONFIGURATION paperfeed ALTER MAPPING FOR
        asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH paperfeed_stem""",
    r"""CREATE FUNCTION paperfeed_fold(text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT regexp_replace(
            regexp_replace(normalize($1, NFD), '[\u0300-\u036f]+', '', 'g'),
            '[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+', ' ', 'g')
    $$""",
    """ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('paperfeed'::regconfig, paperfeed_fold(title)), 'A')
        || setweight(to_tsvector('paperfeed'::regconfig, paperfeed_fold(authors)), 'B')
        || setweight(to_tsvector('paperfeed'::regconfig, paperfeed_fold(abstract)), 'C')
    ) STORED""",
    # Kept in the row (the abstract goes to TOAST first): matching and ranking read every
    # matching row's vector, several times per row for multi-word queries.
    "ALTER TABLE papers ALTER COLUMN search_vector SET STORAGE MAIN",
    "CREATE INDEX ix_papers_search ON papers USING gin (search_vector)",
)

# Embeddings as pgvector values beside the float32 blobs the shared code reads. The column has no
# fixed dimension (models differ); each dimension gets its own partial HNSW index once there are
# enough vectors of that size to need one (below EXACT_BELOW in postgres_embeddings.py searches
# are exact scans). The vector stays in the row and the blob goes out of line, so scans never
# read TOAST.
_VECTORS = sql_steps(
    "CREATE EXTENSION IF NOT EXISTS vector",
    "ALTER TABLE embeddings ADD COLUMN embedding vector",
    "ALTER TABLE embeddings ALTER COLUMN embedding SET STORAGE PLAIN",
    "ALTER TABLE embeddings ALTER COLUMN vector SET STORAGE EXTERNAL",
    "CREATE INDEX ix_embeddings_model_seq ON embeddings (model, seq)",
)

# Hidden (moderated) papers are few: nearest-neighbour searches read their keys from this partial
# index and skip them as they skip excluded keys.
_HIDDEN_INDEX = sql_steps(
    "CREATE INDEX IF NOT EXISTS ix_papers_hidden ON papers (key) WHERE hidden"
)

POSTGRES_MIGRATIONS = [
    Migration(1, "core tables", _create_core_tables),
    Migration(2, "tsvector keyword index", _KEYWORD_INDEX),
    Migration(3, "e-mail digest tables", create_digest_tables),
    Migration(4, "pgvector embeddings", _VECTORS),
    Migration(5, "title and submission-time indexes", create_lookup_indexes),
    Migration(6, "index of hidden papers", _HIDDEN_INDEX),
    Migration(7, "sessions, log-in failures, case-insensitive accounts", secure_accounts),
    Migration(8, "link generations, e-mails sent on request", add_link_generations_and_mail_log),
    Migration(9, "submissions waiting for arXiv", create_pending_table),
    Migration(10, "followed sources and sync runs", create_sync_tables),
    Migration(11, "HF fields, code links, keywords", add_paper_extras),
    Migration(12, "collections, library, feedback, follows", create_reader_tables),
    Migration(13, "content version (page caches)", sql_steps(*content_version.POSTGRES_STEPS)),
    Migration(14, "DOI index", create_doi_index),
    Migration(15, "change log of the nodes' keyword indexes", LOG_STEPS),
]


def _unique_violation(error: sa.exc.IntegrityError) -> bool:
    return getattr(error.orig, "sqlstate", None) == "23505"


class PostgresPaperStore(TantivyPaperStore):
    """Keyword search by this node's tantivy index (postgres_tantivy.py) kept under
    `index_root`; over the ``search_vector`` column (postgres_keyword.py) until it is built."""

    def __init__(self, engine: sa.Engine, index_root: Path) -> None:
        super().__init__(engine)
        self.index_root = index_root
        self._frequencies = postgres_keyword.DocumentFrequencies()
        self._ranking: PostgresTantivyIndex | None = None
        self._opening = threading.Lock()

    @property
    def ranking(self) -> PostgresTantivyIndex:
        """Opened on first use: the folder's name is read from the migrated database."""
        with self._opening:
            if self._ranking is None:
                self._ranking = PostgresTantivyIndex(self.engine, self.index_root)
            return self._ranking

    def close(self) -> None:
        if self._ranking is not None:
            self._ranking.close()

    def pending_keyword_rows(self) -> int:
        return self.ranking.pending()

    def catch_up_keyword_index(
        self,
        *,
        batch_size: int = 5000,
        on_progress: Callable[[int], None] | None = None,
        rebuild: bool = False,
    ) -> int:
        """Build this node's index or apply the logged changes (`rebuild`: from scratch)."""
        return self.ranking.sync(on_progress, rebuild=rebuild)

    def keyword_search(self, query: Query, limit: int = 200) -> list[tuple[int, float]]:
        if self.ranking.usable():
            return super().keyword_search(query, limit)
        with self.engine.connect() as conn:
            return postgres_keyword.keyword_search(conn, query, limit, self._frequencies)

    def keyword_count(self, query: Query, cap: int, among: Sequence[int] | None = None) -> int:
        if self.ranking.usable():
            return super().keyword_count(query, cap, among)
        with self.engine.connect() as conn:
            return postgres_keyword.keyword_count(conn, query, cap, self._frequencies, among)

    def filter_keys(self, keys: Sequence[int], query: Query) -> set[int]:
        if self.ranking.usable():
            return super().filter_keys(keys, query)
        return self._keys_where(keys, self.text_filter_conditions(query))

    def several_word_names(self, query: Query) -> list[str]:
        return [a for a in query.authors if len(postgres_keyword.author_tokens(a)) > 1]

    def name_conditions(self, names: Sequence[str]) -> list[sa.ColumnElement[bool]]:
        return postgres_keyword.author_conditions(names)

    def text_filter_conditions(self, query: Query) -> list[sa.ColumnElement[bool]]:
        return postgres_keyword.filter_conditions(query, text_constraints=True)


class PostgresCommunityStore(CommunityStore):
    """Races SQLite's write lock rules out: two workers writing the same vote or submission."""

    def add_vote(self, paper_id: str, user_id: int) -> bool:
        try:
            return super().add_vote(paper_id, user_id)
        except sa.exc.IntegrityError as error:
            if _unique_violation(error):  # the same vote, committed by another worker
                return False
            raise

    def submit(self, submission: Submission) -> None:
        try:
            super().submit(submission)
        except sa.exc.IntegrityError as error:
            if _unique_violation(error):
                raise Conflict(
                    f"{submission.paper_id} was just submitted by someone else"
                ) from error
            raise


class PostgresStore(SqlStore):
    migrations = POSTGRES_MIGRATIONS
    papers: PostgresPaperStore
    community: PostgresCommunityStore
    embeddings: PostgresEmbeddingStore
    job_queue: JobQueue

    def __init__(self, engine: sa.Engine, keyword_index_dir: Path) -> None:
        super().__init__(
            engine,
            papers=PostgresPaperStore(engine, keyword_index_dir),
            community=PostgresCommunityStore(engine),
            embeddings=PostgresEmbeddingStore(engine, seq_lock=_SEQ_LOCK),
        )
        self.job_queue = JobQueue(engine)  # background work (paperfeed.jobs)

    @classmethod
    def open(
        cls,
        url: str,
        *,
        keyword_index_dir: Path | None = None,
        pool_size: int = POOL_SIZE,
        max_overflow: int = MAX_OVERFLOW,
    ) -> Self:
        """Open and migrate the database at `url`; this node's keyword index of it lives in a
        folder under `keyword_index_dir` (default: the ``keyword_index_dir`` setting)."""
        engine = sa.create_engine(
            driver_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=True,
            pool_recycle=1800,
        )
        store = cls(engine, keyword_index_dir or load_settings().resolved_keyword_index_dir)
        store.migrate()
        return store

    def migrate(self) -> int:
        """Apply migrations; concurrent starters (web workers) wait for the first one."""
        with self.engine.connect() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_lock(_MIGRATION_LOCK)))
            conn.commit()
            try:
                version = super().migrate()
                with self.engine.begin() as tx:  # the job queue's tables, beside ours
                    apply_job_queue_schema(tx)
                return version
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(_MIGRATION_LOCK)))
                conn.commit()

    def close(self) -> None:
        self.job_queue.close()
        self.papers.close()
        super().close()

    @contextmanager
    def advisory_lock(self, name: str, *, shared: bool = False) -> Iterator[bool]:
        """Hold the cluster-wide lock `name` while the block runs; yields False (without
        waiting) when another session holds it (`shared`: when another holds it exclusively;
        shared holders exclude exclusive ones only). A dead holder's lock is freed with its
        connection."""
        key = lock_key(name)
        take, release = (
            (sa.func.pg_try_advisory_lock_shared, sa.func.pg_advisory_unlock_shared)
            if shared
            else (sa.func.pg_try_advisory_lock, sa.func.pg_advisory_unlock)
        )
        with self.engine.connect() as conn:
            acquired = conn.execute(sa.select(take(key))).scalar_one()
            conn.commit()  # keep the session lock, not an idle open transaction
            try:
                yield bool(acquired)
            finally:
                if acquired:
                    conn.execute(sa.select(release(key)))
                    conn.commit()
