"""The papers a ranking chooses from, with what scoring them needs: their stored embeddings as
one matrix, who wrote which, and their categories.

A pool is the same for every reader of a window, so the Recommender keeps the latest few and
scores each reader against them; the digest builds one for its period's papers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from paperfeed.models import Paper
from paperfeed.recommend.authors import AuthorIndex
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

SIMILARITIES_KEPT = 1024  # vectors (saved searches) whose similarities to a pool are kept


@dataclass(slots=True)
class CandidatePool:
    papers: list[Paper]
    matrix: np.ndarray  # (len(papers), dim) float32, unit rows; zero rows: no stored vector
    has_vector: np.ndarray  # (len(papers),) bool
    authors: AuthorIndex
    index: dict[str, int] = field(default_factory=dict)  # paper id -> position
    _category_masks: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    _similarities: dict[bytes, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, store: SqlStore, model: str | None, keyed: Sequence[tuple[int, Paper]]
    ) -> CandidatePool:
        """A pool of (store key, paper) with the `model` embeddings the store holds for them
        (none when `model` is None: authors and categories still rank)."""
        papers = [paper for _, paper in keyed]
        stored = store.embeddings.get_embeddings(model, [k for k, _ in keyed]) if model else {}
        return cls.from_vectors(papers, [stored[k][0] if k in stored else None for k, _ in keyed])

    @classmethod
    def from_vectors(
        cls, papers: list[Paper], vectors: Sequence[np.ndarray | None]
    ) -> CandidatePool:
        dim = next((len(v) for v in vectors if v is not None), 1)
        matrix = np.zeros((len(papers), dim), dtype=np.float32)
        has_vector = np.zeros(len(papers), dtype=bool)
        for i, vector in enumerate(vectors):
            if vector is not None and len(vector) == dim:
                matrix[i] = vector
                has_vector[i] = True
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix /= np.where(norms > 0, norms, 1.0)
        if len(papers) > has_vector.sum():
            log.info(
                "%d of %d candidates have no vector yet",
                len(papers) - has_vector.sum(),
                len(papers),
            )
        return cls(
            papers,
            matrix,
            has_vector,
            AuthorIndex([p.authors for p in papers]),
            {p.id: i for i, p in enumerate(papers)},
        )

    def __len__(self) -> int:
        return len(self.papers)

    def similarities(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cosine, standardised cosine) of every paper to the unit `vector`, the second
        standardised over the papers with a vector (0 for the others). Kept for the pool's life:
        many readers share a saved search (a digest's thousands of subscribers)."""
        key = vector.tobytes()
        found = self._similarities.get(key)
        if found is None:
            cosine = self.matrix @ vector
            found = (cosine, standardise(cosine, self.has_vector))
            if len(self._similarities) >= SIMILARITIES_KEPT:
                self._similarities.pop(next(iter(self._similarities)), None)
            self._similarities[key] = found
        return found

    def category_mask(self, categories: tuple[str, ...]) -> np.ndarray:
        """Which papers are in one of `categories` (``cs.CL``, or a whole archive ``cs``);
        papers of unknown category count as in."""
        mask = self._category_masks.get(categories)
        if mask is None:
            mask = np.fromiter(
                (category_allows(categories, p.categories) for p in self.papers),
                dtype=bool,
                count=len(self.papers),
            )
            self._category_masks[categories] = mask
        return mask


def category_allows(categories: tuple[str, ...], paper_categories: Sequence[str]) -> bool:
    """No filter, a paper of unknown category, or one matching a category or archive ("cs")."""
    if not categories or not paper_categories:
        return True
    return any(pc == c or pc.startswith(c + ".") for c in categories for pc in paper_categories)


def standardise(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(values - mean) / std over `rows`; 0 elsewhere."""
    result = np.zeros(len(values), dtype=np.float64)
    if not rows.any():
        return result
    chosen = values[rows].astype(np.float64)
    spread = chosen.std() or 1.0
    result[rows] = (chosen - chosen.mean()) / spread
    return result
