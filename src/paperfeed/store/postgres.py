"""The server backend: PostgreSQL (13+) with pgvector, for several web workers and machines.

Compared with SQLite: the keyword index is a stored generated ``tsvector`` column with a GIN index
(always current, nothing to catch up), and embeddings are also kept as pgvector ``vector`` values
with an HNSW cosine index per dimension, so nearest-neighbour search runs in the database and no
ANN index file is kept on local disk. Migrations and the embedding ``seq`` counter are serialised
with advisory locks, so any number of processes may start and write at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import insert as pg_insert

from paperfeed.errors import Conflict
from paperfeed.models import Submission
from paperfeed.store import postgres_keyword
from paperfeed.store.migrations import Migration, sql_steps
from paperfeed.store.schema import CORE_TABLES, create_lookup_indexes, metadata
from paperfeed.store.sql import SqlStore
from paperfeed.store.subscriptions import create_digest_tables

if TYPE_CHECKING:
    from paperfeed.query import Query

POOL_SIZE = 10  # connections kept open per process (each web worker is a process)
MAX_OVERFLOW = 20  # extra connections under bursts
EXACT_BELOW = 20_000  # below this many vectors of a model, neighbours are found exactly
# Memory for building an HNSW index: 1M x 384-d vectors need ~2 GB to build in memory (beyond
# it pgvector goes on, much more slowly, on disk).
HNSW_BUILD_MEMORY = "2GB"
MAX_EF_SEARCH = 1000  # pgvector's upper bound for hnsw.ef_search


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
# enough vectors of that size to need one (below EXACT_BELOW searches are exact scans). The
# vector stays in the row and the blob goes out of line, so scans never read TOAST.
_VECTORS = sql_steps(
    "CREATE EXTENSION IF NOT EXISTS vector",
    "ALTER TABLE embeddings ADD COLUMN embedding vector",
    "ALTER TABLE embeddings ALTER COLUMN embedding SET STORAGE PLAIN",
    "ALTER TABLE embeddings ALTER COLUMN vector SET STORAGE EXTERNAL",
    "CREATE INDEX ix_embeddings_model_seq ON embeddings (model, seq)",
)

POSTGRES_MIGRATIONS = [
    Migration(1, "core tables", _create_core_tables),
    Migration(2, "tsvector keyword index", _KEYWORD_INDEX),
    Migration(3, "e-mail digest tables", create_digest_tables),
    Migration(4, "pgvector embeddings", _VECTORS),
    Migration(5, "title and submission-time indexes", create_lookup_indexes),
]

_FLOAT = sa.Float()  # one instance: SQLAlchemy computes its cache key once

# The embeddings table as this backend writes it (the shared schema lacks the vector column).
_embeddings = sa.Table(
    "embeddings",
    sa.MetaData(),
    sa.Column("paper_key", sa.Integer, primary_key=True),
    sa.Column("model", sa.String(64)),
    sa.Column("text_hash", sa.String(32)),
    sa.Column("vector", sa.LargeBinary),
    sa.Column("seq", sa.Integer),
    sa.Column("embedding", Vector()),
)


def vector_index_name(dim: int) -> str:
    return f"ix_embeddings_hnsw_{int(dim)}"


def ensure_vector_index(conn: sa.Connection, dim: int) -> None:
    """The HNSW cosine index over `dim`-dimensional embeddings (built now if missing)."""
    dim = int(dim)
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {vector_index_name(dim)} ON embeddings "
        f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) "
        f"WHERE vector_dims(embedding) = {dim}"
    )


def _unique_violation(error: sa.exc.IntegrityError) -> bool:
    return getattr(error.orig, "sqlstate", None) == "23505"


def _count_of_dim(conn: sa.Connection, dim: int) -> int:
    """How many `dim`-dimensional vectors are stored, counting up to EXACT_BELOW."""
    rows = sa.select(_embeddings.c.paper_key).where(
        sa.func.vector_dims(_embeddings.c.embedding) == dim
    )
    return conn.execute(
        sa.select(sa.func.count()).select_from(rows.limit(EXACT_BELOW).subquery())
    ).scalar_one()


class PostgresStore(SqlStore):
    migrations = POSTGRES_MIGRATIONS
    vectors_in_store = True  # nearest_keys() answers from pgvector: no ANN index file

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(engine)
        self._indexed_dims: set[int] = set()
        self._deferring = 0  # > 0 inside deferred_vector_indexes()
        self._deferred_dims: set[int] = set()
        self._frequencies = postgres_keyword.DocumentFrequencies()

    @classmethod
    def open(
        cls, url: str, *, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW
    ) -> PostgresStore:
        engine = sa.create_engine(
            driver_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=True,
            pool_recycle=1800,
        )
        store = cls(engine)
        store.migrate()
        return store

    def migrate(self) -> int:
        """Apply migrations; concurrent starters (web workers) wait for the first one."""
        with self.engine.connect() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_lock(_MIGRATION_LOCK)))
            conn.commit()
            try:
                return super().migrate()
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(_MIGRATION_LOCK)))
                conn.commit()

    @contextmanager
    def advisory_lock(self, name: str) -> Iterator[bool]:
        """Hold the cluster-wide lock `name` while the block runs; yields False (without
        waiting) when another session holds it. A dead holder's lock is freed with its
        connection."""
        key = lock_key(name)
        with self.engine.connect() as conn:
            acquired = conn.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar_one()
            conn.commit()  # keep the session lock, not an idle open transaction
            try:
                yield bool(acquired)
            finally:
                if acquired:
                    conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    conn.commit()

    # -- races SQLite's write lock rules out ---------------------------------------------------

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

    # -- keyword search ----------------------------------------------------------------------

    def keyword_search(self, query: Query, limit: int = 200) -> list[tuple[int, float]]:
        with self.engine.connect() as conn:
            return postgres_keyword.keyword_search(conn, query, limit, self._frequencies)

    def text_filter_conditions(self, query: Query) -> list[sa.ColumnElement[bool]]:
        return postgres_keyword.filter_conditions(query, text_constraints=True)

    # -- embeddings and nearest neighbours ---------------------------------------------------

    def save_embeddings(self, model: str, items: Sequence[tuple[int, str, np.ndarray]]) -> int:
        """As SqlStore.save_embeddings, also writing the pgvector value (upsert by key)."""
        latest = {key: (text_hash, vector) for key, text_hash, vector in items}
        if not latest:
            return self.embedding_status(model)[1]
        with self.transaction() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SEQ_LOCK)))
            last = conn.execute(
                sa.text("SELECT coalesce(max(seq), 0) FROM embeddings")
            ).scalar_one()
            values = []
            for seq, (key, (text_hash, vector)) in enumerate(latest.items(), start=last + 1):
                vector = np.asarray(vector, dtype=np.float32)
                values.append(
                    {
                        "paper_key": key,
                        "model": model,
                        "text_hash": text_hash,
                        "vector": vector.tobytes(),
                        "seq": seq,
                        "embedding": vector,
                    }
                )
            stmt = pg_insert(_embeddings)
            columns = ("model", "text_hash", "vector", "seq", "embedding")
            stmt = stmt.on_conflict_do_update(
                index_elements=["paper_key"], set_={c: stmt.excluded[c] for c in columns}
            )
            conn.execute(stmt, values)
            new_dims = {len(v["embedding"]) for v in values} - self._indexed_dims
            if self._deferring:
                self._deferred_dims |= new_dims
            else:
                self._index_large_dims(conn, new_dims)
        return last + len(values)

    def _index_large_dims(self, conn: sa.Connection, dims: set[int]) -> None:
        """Build the HNSW index of each of `dims` that has enough vectors to need one."""
        for dim in dims:
            if _count_of_dim(conn, dim) >= EXACT_BELOW:
                ensure_vector_index(conn, dim)
                self._indexed_dims.add(dim)

    def nearest_keys(
        self, model: str, vector: np.ndarray, k: int, exclude: Sequence[int] | set[int] = ()
    ) -> list[tuple[int, float]]:
        """The `k` keys whose `model` embeddings are nearest `vector` (cosine similarity, best
        first), skipping `exclude`. Exact while the model has few vectors, else HNSW."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        dim, exclude = len(vector), list(exclude)
        if k <= 0:
            return []
        column = sa.cast(_embeddings.c.embedding, Vector(dim))
        distance = column.op("<=>", return_type=_FLOAT)(
            sa.cast(sa.literal(vector, Vector(dim)), Vector(dim))
        )
        where = [_embeddings.c.model == model, sa.func.vector_dims(_embeddings.c.embedding) == dim]
        if exclude:
            where.append(_embeddings.c.paper_key.not_in(exclude))
        stmt = sa.select(_embeddings.c.paper_key, distance.label("distance")).where(*where)
        with self.transaction() as conn:
            few = conn.execute(
                sa.select(sa.func.count()).select_from(
                    sa.select(_embeddings.c.paper_key)
                    .where(*where[:2])
                    .limit(EXACT_BELOW)
                    .subquery()
                )
            ).scalar_one()
            if few < EXACT_BELOW:
                conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
                stmt = stmt.order_by(distance, _embeddings.c.paper_key)
            else:
                ef_search = min(MAX_EF_SEARCH, max(40, k + len(exclude)))
                conn.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {ef_search}")
                stmt = stmt.order_by(distance)
            rows = conn.execute(stmt.limit(k)).all()
        return [(int(key), 1.0 - float(distance)) for key, distance in rows]

    @contextmanager
    def deferred_vector_indexes(self) -> Iterator[None]:
        """Embeddings saved meanwhile do not create a missing HNSW index: it is built once at the
        end (1M vectors: inserted at ~75/s while growing the index, ~580/s then a 9-min build).
        Until then semantic search scans exactly; an existing index keeps being updated."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
            if not self._deferring:
                dims, self._deferred_dims = self._deferred_dims - self._indexed_dims, set()
                with self.transaction() as conn:
                    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{HNSW_BUILD_MEMORY}'")
                    self._index_large_dims(conn, dims)

    def rebuild_vector_indexes(self) -> list[str]:
        """Create any missing HNSW index (e.g. after a bulk copy), whatever the number of
        vectors; returns their names."""
        with self.transaction() as conn:
            dims = (
                conn.execute(
                    sa.text(
                        "SELECT DISTINCT vector_dims(embedding) FROM embeddings "
                        "WHERE embedding IS NOT NULL"
                    )
                )
                .scalars()
                .all()
            )
            conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{HNSW_BUILD_MEMORY}'")
            for dim in dims:
                ensure_vector_index(conn, dim)
        self._indexed_dims.update(dims)
        return [vector_index_name(d) for d in dims]
