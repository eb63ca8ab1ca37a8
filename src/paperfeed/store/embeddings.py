"""The embeddings area of the store: the vectors of papers it is given, per model, each row
numbered by a ``seq`` so that an ANN index can follow what was written since it last looked.

Here vectors are float32 blobs and nearest neighbours are searched elsewhere (the ANN index file
of the search package); PostgreSQL also searches them itself (``postgres_embeddings.py``).
Embedding rows exist for hidden papers too; `nearest_keys`, where a backend answers it, never
returns hidden papers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import ClassVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from paperfeed.store.chunks import chunks
from paperfeed.store.schema import embeddings, papers


class EmbeddingStore:
    """Paper embeddings in one SQL database."""

    # True when nearest_keys() searches the vectors in the database (pgvector): no ANN index file.
    vectors_in_store: ClassVar[bool] = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def embedding_candidates(
        self,
        model: str,
        *,
        after_key: int = 0,
        modified_since: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[tuple[int, str, str, str | None]]:
        """Papers (hidden ones too) that may need a new `model` embedding: none yet, another
        model's, or modified since `modified_since`: (key, title, abstract, stored text_hash),
        by key > `after_key`."""
        stmt = (
            sa.select(papers.c.key, papers.c.title, papers.c.abstract, embeddings.c.text_hash)
            .select_from(papers.outerjoin(embeddings, embeddings.c.paper_key == papers.c.key))
            .where(papers.c.key > after_key, _stale_embedding(model, modified_since))
            .order_by(papers.c.key)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                (row.key, row.title, row.abstract, row.text_hash or None)
                for row in conn.execute(stmt)
            ]

    def save_embeddings(self, model: str, items: Sequence[tuple[int, str, np.ndarray]]) -> int:
        """Store (key, text_hash, vector) for `model`, replacing older ones; each row gets the
        next `seq`. Returns the last seq written (0 when nothing was)."""
        if not items:
            return self.embedding_status(model)[1]
        with self.engine.begin() as conn:
            last = int(
                conn.execute(
                    sa.select(sa.func.coalesce(sa.func.max(embeddings.c.seq), 0))
                ).scalar_one()
            )
            for chunk in chunks(key for key, _, _ in items):
                conn.execute(embeddings.delete().where(embeddings.c.paper_key.in_(chunk)))
            values = [
                {
                    "paper_key": key,
                    "model": model,
                    "text_hash": text_hash,
                    "vector": np.asarray(vector, dtype=np.float32).tobytes(),
                    "seq": last + i,
                }
                for i, (key, text_hash, vector) in enumerate(items, start=1)
            ]
            conn.execute(embeddings.insert(), values)
        return last + len(items)

    def embeddings_since(
        self, model: str, seq: int, batch_size: int = 5000
    ) -> Iterator[tuple[int, np.ndarray, int]]:
        """(key, vector, seq) of `model` embeddings written after `seq`, in seq order."""
        while True:
            stmt = (
                sa.select(embeddings.c.paper_key, embeddings.c.vector, embeddings.c.seq)
                .where(embeddings.c.model == model, embeddings.c.seq > seq)
                .order_by(embeddings.c.seq)
                .limit(batch_size)
            )
            with self.engine.connect() as conn:
                batch = conn.execute(stmt).all()
            for key, blob, row_seq in batch:
                yield key, np.frombuffer(blob, dtype=np.float32), row_seq
            if len(batch) < batch_size:
                return
            seq = batch[-1][2]

    def embedding_status(self, model: str) -> tuple[int, int]:
        """(how many `model` embeddings are stored, the highest seq among them; 0 if none)."""
        stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(embeddings.c.seq), 0)).where(
            embeddings.c.model == model
        )
        with self.engine.connect() as conn:
            count, top = conn.execute(stmt).one()
        return int(count), int(top)

    def latest_embedding_seq(self, model: str) -> int:
        """The highest seq of the `model` embeddings (0 if none), from an index: a cheap way to
        tell whether any were written since a check."""
        stmt = (
            sa.select(embeddings.c.seq)
            .where(embeddings.c.model == model)
            .order_by(embeddings.c.seq.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def get_embeddings(self, model: str, keys: Sequence[int]) -> dict[int, tuple[np.ndarray, str]]:
        """key -> (vector, text_hash) of the stored `model` embeddings of `keys` (hidden papers'
        too)."""
        found: dict[int, tuple[np.ndarray, str]] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(keys):
                stmt = sa.select(
                    embeddings.c.paper_key, embeddings.c.vector, embeddings.c.text_hash
                ).where(embeddings.c.model == model, embeddings.c.paper_key.in_(chunk))
                for key, blob, text_hash in conn.execute(stmt):
                    found[key] = (np.frombuffer(blob, dtype=np.float32), text_hash)
        return found

    # -- where the database searches the vectors itself (PostgreSQL) -------------------------

    def nearest_keys(
        self, model: str, vector: np.ndarray, k: int, exclude: Sequence[int] | set[int] = ()
    ) -> list[tuple[int, float]] | None:
        """(key, cosine similarity) of the `k` `model` embeddings of visible papers nearest
        `vector`, best first, skipping `exclude`; None when the backend cannot (search the local
        ANN index instead, and drop hidden papers with `store.papers.filter_keys`)."""
        return None

    def deferred_vector_indexes(self) -> AbstractContextManager[None]:
        """While embedding many papers: a vector index the database lacks is built once at the
        end instead of growing row by row (a no-op where the index is a file, see search)."""
        return contextlib.nullcontext()

    def rebuild_vector_indexes(self) -> list[str]:
        """Create any missing vector index in the database (e.g. after a bulk copy); returns
        their names (none where the index is a file)."""
        return []


def _stale_embedding(model: str, modified_since: dt.datetime | None) -> sa.ColumnElement[bool]:
    stale = [embeddings.c.paper_key.is_(None), embeddings.c.model != model]
    if modified_since is not None:
        stale.append(papers.c.modified_at >= modified_since)
    return sa.or_(*stale)
