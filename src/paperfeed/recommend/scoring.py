"""Scoring one reader's profile against a candidate pool (the arithmetic of recommend.ranker;
its docstring says what each part means)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import ThreadpoolController

from paperfeed.recommend.pool import CandidatePool, standardise
from paperfeed.recommend.signals import (
    AUTHOR,
    CATEGORY,
    LIBRARY,
    LIBRARY_AUTHOR,
    SEARCH,
)

if TYPE_CHECKING:
    from paperfeed.recommend.ranker import RankOptions

_PARTS = (AUTHOR, LIBRARY, LIBRARY_AUTHOR, SEARCH, CATEGORY)  # reasons, first wins ties


@dataclass(slots=True)
class ReaderProfile:
    interests: list[tuple[np.ndarray, float, str, str]]  # (unit vector, weight, reason, kind)
    searches: list[tuple[np.ndarray, str]]  # (unit vector, reason)
    library_authors: dict[str, float]  # display name -> summed weight of liked papers
    library_weight: float = 0.0  # summed weight of the liked papers whose authors are known
    followed_authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    category_filter: tuple[str, ...] = ()
    dismissed: list[np.ndarray] = field(default_factory=list)
    never: set[str] = field(default_factory=set)  # paper ids never returned


@dataclass(frozen=True, slots=True)
class Scored:
    position: int  # in the pool
    score: float
    reason: str
    kind: str


@dataclass(slots=True)
class _Part:
    """One signal's contribution to every candidate, whether it is evidence, and its reason."""

    value: np.ndarray
    evidence: np.ndarray
    reasons: list[str]  # indexed by `which`
    which: np.ndarray
    kinds: list[str] | None = None  # per reason, when a part has several kinds
    closeness: np.ndarray | None = None  # the best raw cosine to the part's interests


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def score_pool(
    pool: CandidatePool, profile: ReaderProfile, options: RankOptions, limit: int
) -> list[Scored]:
    """The best `limit` candidates with evidence, best first (ties: pool order).

    One reader's products are small: BLAS runs them on one thread (its threads waking for each
    made a digest's 10k readers 40x slower on a busy machine: bench/digest.py)."""
    with _blas().limit(limits=1, user_api="blas"):
        return _score_pool(pool, profile, options, limit)


def _score_pool(
    pool: CandidatePool, profile: ReaderProfile, options: RankOptions, limit: int
) -> list[Scored]:
    m = len(pool)
    usable = pool.has_vector.any()
    parts: dict[str, _Part] = {}
    if usable:
        interests = [i for i in profile.interests if len(i[0]) == pool.matrix.shape[1]]
        if interests:
            parts[LIBRARY] = _library(pool, interests, options)
        searches = [s for s in profile.searches if len(s[0]) == pool.matrix.shape[1]]
        if searches:
            parts[SEARCH] = _searches(pool, searches, options)
    if profile.library_authors:
        parts[LIBRARY_AUTHOR] = _library_authors(
            pool, profile.library_authors, profile.library_weight, options
        )
    if profile.followed_authors:
        parts[AUTHOR] = _followed_authors(pool, profile.followed_authors, options)
    if profile.categories:
        parts[CATEGORY] = _categories(pool, profile.categories, options)
    if not parts:
        return []
    total = np.zeros(m, dtype=np.float64)
    evidence = np.zeros(m, dtype=bool)
    for part in parts.values():
        total += part.value
        evidence |= part.evidence
    if usable and profile.dismissed:
        liked = parts[LIBRARY].closeness if LIBRARY in parts else None
        total -= _dismissed_penalty(pool, profile.dismissed, liked, options)
    allowed = evidence & pool.category_mask(profile.category_filter)
    for paper_id in profile.never:
        position = pool.index.get(paper_id)
        if position is not None:
            allowed[position] = False
    candidates = np.flatnonzero(allowed)
    if not len(candidates):
        return []
    order = candidates[np.argsort(-total[candidates], kind="stable")][:limit]
    return [_scored(int(c), float(total[c]), parts) for c in order]


def _scored(position: int, score: float, parts: dict[str, _Part]) -> Scored:
    best: tuple[float, str, _Part] | None = None
    for kind in _PARTS:
        part = parts.get(kind)
        if part is None or not part.evidence[position]:
            continue
        value = float(part.value[position])
        if best is None or value > best[0]:
            best = (value, kind, part)
    assert best is not None  # only candidates with evidence are scored
    _, kind, part = best
    which = int(part.which[position])
    if part.kinds is not None:
        kind = part.kinds[which]
    return Scored(position, score, part.reasons[which], kind)


def _library(
    pool: CandidatePool,
    interests: list[tuple[np.ndarray, float, str, str]],
    options: RankOptions,
) -> _Part:
    vectors = np.stack([i[0] for i in interests])
    bonus = options.weight_bonus * np.log(np.array([i[1] for i in interests], dtype=np.float32))
    raw = pool.matrix @ vectors.T  # (candidates, interests)
    sims = raw + bonus
    k = min(options.neighbours, len(interests))
    top = np.partition(sims, len(interests) - k, axis=1)[:, len(interests) - k :]
    which = sims.argmax(axis=1)
    closeness = raw.max(axis=1)
    return _Part(
        value=standardise(top.mean(axis=1), pool.has_vector),
        evidence=pool.has_vector & (closeness >= options.min_similarity),
        reasons=[i[2] for i in interests],
        which=which,
        kinds=[i[3] for i in interests],
        closeness=closeness,
    )


def _searches(
    pool: CandidatePool, searches: list[tuple[np.ndarray, str]], options: RankOptions
) -> _Part:
    columns = [pool.similarities(s[0]) for s in searches]
    sims = np.stack([cosine for cosine, _ in columns], axis=1)  # (candidates, searches)
    standard = np.stack([standard for _, standard in columns], axis=1)
    which = standard.argmax(axis=1)
    best_raw = np.take_along_axis(sims, which[:, None], axis=1)[:, 0]
    return _Part(
        value=options.search * standard.max(axis=1),
        evidence=pool.has_vector & (best_raw >= options.min_similarity),
        reasons=[s[1] for s in searches],
        which=which,
    )


def _library_authors(
    pool: CandidatePool, counts: dict[str, float], total: float, options: RankOptions
) -> _Part:
    m = len(pool)
    value = np.zeros(m, dtype=np.float64)
    which = np.zeros(m, dtype=np.int64)
    names = [name for name, count in counts.items() if count >= options.frequent_author]
    for j, name in enumerate(names):
        counted = total > 0 and counts[name] >= options.share_from
        share = counts[name] / total if counted else 0.0
        boost = options.library_author * float(np.log1p(counts[name])) + (
            options.library_share * share
        )
        for position in pool.authors.papers_by(name):
            if boost > value[position]:
                value[position] = boost
                which[position] = j
    return _Part(
        value=value,
        evidence=value > 0,
        reasons=[f"by {name}, an author in your library" for name in names],
        which=which,
    )


def _followed_authors(pool: CandidatePool, names: tuple[str, ...], options: RankOptions) -> _Part:
    m = len(pool)
    value = np.zeros(m, dtype=np.float64)
    which = np.zeros(m, dtype=np.int64)
    for j, name in reversed(list(enumerate(names))):  # the first followed name gives the reason
        positions = list(pool.authors.papers_by(name))
        value[positions] = options.followed_author
        which[positions] = j
    return _Part(
        value=value,
        evidence=value > 0,
        reasons=[f"by an author you follow: {name}" for name in names],
        which=which,
    )


def _categories(pool: CandidatePool, categories: tuple[str, ...], options: RankOptions) -> _Part:
    m = len(pool)
    which = np.zeros(m, dtype=np.int64)
    inside = np.zeros(m, dtype=bool)
    for position, paper in enumerate(pool.papers):
        for j, category in enumerate(categories):
            if any(pc == category or pc.startswith(category + ".") for pc in paper.categories):
                inside[position] = True
                which[position] = j
                break
    return _Part(
        value=np.where(inside, options.followed_category, 0.0),
        evidence=inside,
        reasons=[f"in {c}, which you follow" for c in categories],
        which=which,
    )


def _dismissed_penalty(
    pool: CandidatePool,
    dismissed: list[np.ndarray],
    liked: np.ndarray | None,
    options: RankOptions,
) -> np.ndarray:
    """How much closer each candidate is to a dismissed paper than to anything liked, beyond
    the margin, in standard deviations of the closeness to dismissed papers (0 when liked ones
    are about as close)."""
    vectors = [d for d in dismissed if len(d) == pool.matrix.shape[1]]
    if not vectors:
        return np.zeros(len(pool))
    closest = (pool.matrix @ np.stack(vectors).T).max(axis=1)
    rows = pool.has_vector
    spread = float(closest[rows].std()) or 1.0 if rows.any() else 1.0
    baseline = (
        liked
        if liked is not None
        else np.full(len(pool), closest[rows].mean() if rows.any() else 0.0)
    )
    excess = np.where(rows, closest - baseline - options.dismissed_margin, 0.0)
    return options.dismissed * np.clip(excess / spread, 0.0, None)
