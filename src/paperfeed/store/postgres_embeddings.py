"""The embeddings area on PostgreSQL: vectors also kept as pgvector ``vector`` values, searched in
the database (exactly while a model has few, else through an HNSW cosine index per dimension),
so no ANN index file is kept on local disk. The ``seq`` counter is serialised with an advisory
lock, so any number of processes may write at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import insert as pg_insert

from paperfeed.store.embeddings import EmbeddingStore
from paperfeed.store.schema import papers

EXACT_BELOW = 20_000  # below this many vectors of a model, neighbours are found exactly
# Memory for building an HNSW index: 1M x 384-d vectors need ~2 GB to build in memory (beyond
# it pgvector goes on, much more slowly, on disk).
HNSW_BUILD_MEMORY = "2GB"
MAX_EF_SEARCH = 1000  # pgvector's upper bound for hnsw.ef_search

_FLOAT = sa.Float()  # one instance: SQLAlchemy computes its cache key once

# The embeddings table as this backend writes it (the shared schema lacks the vector column).
vector_embeddings = sa.Table(
    "embeddings",
    sa.MetaData(),
    sa.Column("paper_key", sa.Integer, primary_key=True),
    sa.Column("model", sa.String(64)),
    sa.Column("text_hash", sa.String(32)),
    sa.Column("vector", sa.LargeBinary),
    sa.Column("seq", sa.Integer),
    sa.Column("embedding", Vector()),
)
_table = vector_embeddings


def vector_index_name(dim: int) -> str:
    return f"ix_embeddings_hnsw_{int(dim)}"


def ensure_vector_index(conn: sa.Connection, dim: int) -> None:
    """The HNSW cosine index over `dim`-dimensional embeddings (built now if missing)."""
    dim = int(dim)
    # PostgreSQL builds no index on a table with deferred trigger events pending (the content
    # version's, store/content_version.py): fire them now.
    conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {vector_index_name(dim)} ON embeddings "
        f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) "
        f"WHERE vector_dims(embedding) = {dim}"
    )


def _count_of_dim(conn: sa.Connection, dim: int) -> int:
    """How many `dim`-dimensional vectors are stored, counting up to EXACT_BELOW."""
    rows = sa.select(_table.c.paper_key).where(sa.func.vector_dims(_table.c.embedding) == dim)
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(rows.limit(EXACT_BELOW).subquery())
        ).scalar_one()
    )


class PostgresEmbeddingStore(EmbeddingStore):
    vectors_in_store: ClassVar[bool] = True  # nearest_keys() answers from pgvector

    def __init__(self, engine: sa.Engine, *, seq_lock: int) -> None:
        """`seq_lock`: the advisory lock key that serialises writers of the seq counter."""
        super().__init__(engine)
        self._seq_lock = seq_lock
        self._indexed_dims: set[int] = set()
        self._deferring = 0  # > 0 inside deferred_vector_indexes()
        self._deferred_dims: set[int] = set()

    def save_embeddings(self, model: str, items: Sequence[tuple[int, str, np.ndarray]]) -> int:
        """As EmbeddingStore.save_embeddings, also writing the pgvector value (upsert by key)."""
        latest = {key: (text_hash, vector) for key, text_hash, vector in items}
        if not latest:
            return self.embedding_status(model)[1]
        with self.engine.begin() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(self._seq_lock)))
            last = int(
                conn.execute(sa.text("SELECT coalesce(max(seq), 0) FROM embeddings")).scalar_one()
            )
            values: list[dict[str, Any]] = []
            for seq, (key, (text_hash, vector)) in enumerate(latest.items(), start=last + 1):
                as_float = np.asarray(vector, dtype=np.float32)
                values.append(
                    {
                        "paper_key": key,
                        "model": model,
                        "text_hash": text_hash,
                        "vector": as_float.tobytes(),
                        "seq": seq,
                        "embedding": as_float,
                    }
                )
            stmt = pg_insert(_table)
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
        """The `k` keys of visible papers whose `model` embeddings are nearest `vector` (cosine
        similarity, best first), skipping `exclude`. Exact while the model has few vectors, else
        HNSW. Hidden papers are skipped like `exclude` (their keys come from a partial index)."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        dim = len(vector)
        if k <= 0:
            return []
        column = sa.cast(_table.c.embedding, Vector(dim))
        distance = column.op("<=>", return_type=_FLOAT)(
            sa.cast(sa.literal(vector, Vector(dim)), Vector(dim))
        )
        of_model = [_table.c.model == model, sa.func.vector_dims(_table.c.embedding) == dim]
        with self.engine.begin() as conn:
            hidden = conn.execute(sa.select(papers.c.key).where(papers.c.hidden)).scalars()
            skipped = sorted(set(exclude) | set(hidden))
            where = [*of_model, _table.c.paper_key.not_in(skipped)] if skipped else of_model
            stmt = sa.select(_table.c.paper_key, distance.label("distance")).where(*where)
            few = conn.execute(
                sa.select(sa.func.count()).select_from(
                    sa.select(_table.c.paper_key).where(*of_model).limit(EXACT_BELOW).subquery()
                )
            ).scalar_one()
            if few < EXACT_BELOW:
                conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
                stmt = stmt.order_by(distance, _table.c.paper_key)
            else:
                ef_search = min(MAX_EF_SEARCH, max(40, k + len(skipped)))
                conn.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {ef_search}")
                stmt = stmt.order_by(distance)
            found = conn.execute(stmt.limit(k)).all()
        return [(int(key), 1.0 - float(distance)) for key, distance in found]

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
                with self.engine.begin() as conn:
                    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{HNSW_BUILD_MEMORY}'")
                    self._index_large_dims(conn, dims)

    def rebuild_vector_indexes(self) -> list[str]:
        """Create any missing HNSW index (e.g. after a bulk copy), whatever the number of
        vectors; returns their names."""
        with self.engine.begin() as conn:
            dims = [
                int(d)
                for d in conn.execute(
                    sa.text(
                        "SELECT DISTINCT vector_dims(embedding) FROM embeddings "
                        "WHERE embedding IS NOT NULL"
                    )
                ).scalars()
            ]
            conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{HNSW_BUILD_MEMORY}'")
            for dim in dims:
                ensure_vector_index(conn, dim)
        self._indexed_dims.update(dims)
        return [vector_index_name(d) for d in dims]
