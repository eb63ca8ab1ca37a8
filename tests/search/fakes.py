"""A fast deterministic embedder for tests: hashed bag of word stems, L2-normalised."""

from __future__ import annotations

import hashlib
import re

import numpy as np


class HashingEmbedder:
    """Words (lower-cased, crude plural stripping) hashed into `dim` buckets."""

    def __init__(self, dim: int = 256, name: str = "hashing-test") -> None:
        self.dim = dim
        self.name = name
        self.calls = 0  # documents embedded so far

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            stem = word[:-1] if len(word) > 3 and word.endswith("s") else word
            digest = hashlib.blake2b(stem.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim))

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)
