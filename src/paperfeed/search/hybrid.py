"""Fusing ranked candidate lists (keyword, dense) into one ranking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Tuned by `bench/relevance.py --tune` on CACM nDCG@10 and known-item MRR@10 together, each split
# into tune/test halves: k 10-100 x keyword weight 1-2 form a plateau; k=30, weight 1.5 sits in its
# middle (tune 0.509/0.874, test 0.555/0.872) and beats k=20, weight 1 on known items (0.868).
RRF_K = 30
KEYWORD_WEIGHT = 1.5
DENSE_WEIGHT = 1.0


@dataclass(slots=True)
class Fused:
    key: int
    score: float
    keyword_rank: int | None = None  # 1-based rank in the keyword list
    dense_rank: int | None = None  # 1-based rank in the dense list


def reciprocal_rank_fusion(
    keyword: Sequence[int],
    dense: Sequence[int],
    *,
    k: float = RRF_K,
    keyword_weight: float = KEYWORD_WEIGHT,
    dense_weight: float = DENSE_WEIGHT,
) -> list[Fused]:
    """Weighted RRF: score = Σ weight / (k + rank). Best first; ties keep keyword order."""
    fused: dict[int, Fused] = {}
    for rank, key in enumerate(keyword, start=1):
        item = fused.setdefault(key, Fused(key, 0.0))
        if item.keyword_rank is None:
            item.keyword_rank = rank
            item.score += keyword_weight / (k + rank)
    for rank, key in enumerate(dense, start=1):
        item = fused.setdefault(key, Fused(key, 0.0))
        if item.dense_rank is None:
            item.dense_rank = rank
            item.score += dense_weight / (k + rank)
    return sorted(fused.values(), key=lambda f: -f.score)
