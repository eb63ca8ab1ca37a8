"""A fast deterministic embedder for tests: a sum of per-word random vectors, L2-normalised."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from paperfeed.query import STOPWORDS


class HashingEmbedder:
    """Each word (lower-cased, plural "s" stripped, stop words skipped) maps to a fixed
    pseudo-random direction, so texts sharing words are near and ties practically impossible."""

    def __init__(self, dim: int = 64, name: str = "hashing-test") -> None:
        self.dim = dim
        self.name = name
        self.calls = 0  # documents embedded so far
        self._words: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> np.ndarray:
        vector = self._words.get(word)
        if vector is None:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            self._words[word] = vector
        return vector

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            if word in STOPWORDS:
                continue
            vector += self._word(word[:-1] if len(word) > 3 and word.endswith("s") else word)
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)
