"""A persisted approximate-nearest-neighbour index of paper vectors (usearch HNSW, cosine).

Keys are the store's non-negative integer paper keys. Small collections are searched exactly
(brute force inside usearch), larger ones through the HNSW graph.

On disk: ``<path>`` (the usearch index) and ``<path>.json`` (count, dim, model and the caller's
``synced_through`` marker). Both are written atomically, index first, so after a crash the
sidecar's marker is never ahead of the index: re-syncing from it only repeats upserts.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from usearch.index import Index

from paperfeed import private_files

log = logging.getLogger(__name__)

EXACT_BELOW = 20_000  # below this many vectors, exact search is as fast and has full recall
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 64


class VectorIndex:
    """Cosine-similarity index from int keys to `dim`-d vectors, with upsert and delete."""

    def __init__(
        self, dim: int, path: str | os.PathLike[str] | None = None, model: str = ""
    ) -> None:
        self.dim = dim
        self.path = Path(path) if path is not None else None
        self.model = model
        self.synced_through: Any = None
        self._index = self._new_index()

    def _new_index(self) -> Index:
        return Index(
            ndim=self.dim,
            metric="cos",
            dtype="f32",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VectorIndex:
        """Open a saved index (its sidecar tells dim, model and marker)."""
        path = Path(path)
        meta = json.loads(sidecar_path(path).read_text())
        self = cls(meta["dim"], path, meta.get("model", ""))
        self.synced_through = meta.get("synced_through")
        self._index.load(str(path))
        if len(self._index) != meta["count"]:
            log.warning("%s holds %d vectors, sidecar says %d", path, len(self), meta["count"])
        return self

    @classmethod
    def open(cls, path: str | os.PathLike[str], dim: int, model: str = "") -> VectorIndex:
        """Load the index at `path` if it exists with this dim and model, else start empty."""
        path = Path(path)
        if path.exists() and sidecar_path(path).exists():
            index = cls.load(path)
            if index.dim == dim and (not model or index.model == model):
                return index
            log.info("%s was built for %s/%d, starting a new index", path, index.model, index.dim)
        return cls(dim, path, model)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return bool(isinstance(key, int | np.integer) and key >= 0 and int(key) in self._index)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Insert or replace vectors (rows of `vectors`) under `keys`; the last duplicate wins."""
        keys = self._keys(keys)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(keys), self.dim)
        if not len(keys):
            return
        _, last = np.unique(keys[::-1], return_index=True)
        take = len(keys) - 1 - last
        keys, vectors = keys[take], vectors[take]
        self._index.remove(keys)
        self._index.add(keys, np.ascontiguousarray(vectors))

    def remove(self, keys: np.ndarray) -> int:
        """Drop these keys (missing ones are ignored); returns how many were removed."""
        keys = self._keys(keys)
        return int(self._index.remove(keys)) if len(keys) else 0

    def search(
        self, vector: np.ndarray, k: int, *, exclude: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """The `k` nearest keys with cosine similarity, best first, skipping `exclude`."""
        n = len(self)
        if n == 0 or k <= 0:
            return []
        exclude = exclude or set()
        want = min(n, k + len(exclude))
        vector = np.asarray(vector, dtype=np.float32).reshape(self.dim)
        matches = self._index.search(vector, want, exact=n < EXACT_BELOW)
        hits = [
            (int(key), 1.0 - float(dist))
            for key, dist in zip(matches.keys, matches.distances, strict=True)
            if int(key) not in exclude
        ]
        return hits[:k]

    def rebuild(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the whole contents (also compacts space left by removals)."""
        started = time.perf_counter()
        self._index = self._new_index()
        self.add(keys, vectors)
        log.info(
            "rebuilt vector index: %d vectors in %.1fs", len(self), time.perf_counter() - started
        )

    def save(self, synced_through: Any = None, path: str | os.PathLike[str] | None = None) -> None:
        """Write index then sidecar atomically; `synced_through`: caller's JSON marker."""
        if path is not None:
            self.path = Path(path)
        if self.path is None:
            raise ValueError("VectorIndex.save needs a path")
        self.synced_through = synced_through
        private_files.make_dir(self.path.parent)
        tmp = self.path.with_name(self.path.name + ".tmp")
        self._index.save(str(tmp))
        os.chmod(tmp, private_files.FILE_MODE)
        os.replace(tmp, self.path)
        meta = {
            "count": len(self),
            "dim": self.dim,
            "model": self.model,
            "synced_through": synced_through,
            "saved_at": time.time(),
        }
        side = sidecar_path(self.path)
        side_tmp = side.with_name(side.name + ".tmp")
        private_files.write_bytes(side_tmp, json.dumps(meta, indent=1).encode())
        os.replace(side_tmp, side)

    @staticmethod
    def _keys(keys: np.ndarray) -> np.ndarray:
        keys = np.atleast_1d(np.asarray(keys, dtype=np.int64))
        if (keys < 0).any():
            raise ValueError("vector keys must be non-negative")
        return keys.astype(np.uint64)


def sidecar_path(path: Path) -> Path:
    """Where the JSON sidecar of the index at `path` lives."""
    return path.with_name(path.name + ".json")
