"""What goes into each subscriber's digest for a date.

A digest covers one feed day (daily subscribers) or the seven days ending on it (weekly).
Its papers are the period's submissions and new arXiv listings ("candidates"):

* personal picks, ranked by how close each candidate is to the subscriber's interests: every
  saved search (embedded as a query) and every recently upvoted paper of the linked account is
  one interest vector; a candidate's score is its best cosine similarity to any of them. The
  distinct interests of a batch of subscribers are scored with one matrix product (interests x
  candidates); each subscriber's scores are the best of their own rows.
  Papers by a followed author (names matched case- and accent-insensitively) come first.
* the period's trending papers (feed.rank_trending as of the end of the period) fill the rest.

Category filters apply to both; papers the subscriber upvoted or was sent in an earlier digest
are never picked. Every paper carries a short reason shown in the e-mail.

Longer than our other modules because the Composer's batch scoring, author follows, category
filters and reasons read as one algorithm; the candidate pool it scores comes from here too.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Protocol

import numpy as np

from paperfeed import listings
from paperfeed.models import Paper, Preferences, Subscriber
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

PERSONAL = ("search", "author", "upvoted")
TRENDING = "trending"


class VectorSource(Protocol):
    """What composing needs from search (search.engine.SearchEngine provides it)."""

    def embed_query(self, text: str) -> np.ndarray: ...

    def vectors_for(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True, slots=True)
class ComposeOptions:
    min_similarity: float = 0.35  # cosine below which a paper is not a personal pick
    trending_reserve: int = 3  # slots kept for trending papers (at most half the digest)
    upvotes_per_user: int = 20  # recent upvotes used as interests
    chunk: int = 4096  # subscribers scored per matrix product
    max_candidates: int = 5000  # new arXiv listings considered per period


DEFAULT_OPTIONS = ComposeOptions()


@dataclass(frozen=True, slots=True)
class Pick:
    paper: Paper
    kind: str  # "search", "author", "upvoted" or "trending"
    reason: str
    score: float


@dataclass(frozen=True, slots=True)
class Digest:
    subscriber: Subscriber
    date: dt.date  # the digest date (the last day covered)
    start: dt.date  # the first day covered
    picks: list[Pick] = field(default_factory=list)  # personal picks, best first
    trending: list[Pick] = field(default_factory=list)

    @property
    def paper_ids(self) -> list[str]:
        return [p.paper.id for p in (*self.picks, *self.trending)]

    @property
    def is_empty(self) -> bool:
        return not self.picks and not self.trending


def period_for(prefs: Preferences, date: dt.date) -> dt.date:
    """First day covered by a digest of `date`."""
    return date - dt.timedelta(days=6) if prefs.frequency == "weekly" else date


def is_due(prefs: Preferences, date: dt.date) -> bool:
    """Daily digests go out every day; weekly ones with the digest of each Sunday (the
    ISO week Monday to Sunday)."""
    return prefs.frequency == "daily" or date.isoweekday() == 7


@lru_cache(maxsize=65_536)
def normalize_name(name: str) -> str:
    """Lower-case, accents and punctuation dropped, spaces collapsed: "J. Müller" -> "j muller"."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.split())


def category_allows(categories: tuple[str, ...], paper_categories: Sequence[str]) -> bool:
    """No filter, a paper of unknown category, or one matching a category or archive ("cs")."""
    if not categories or not paper_categories:
        return True
    return any(pc == c or pc.startswith(c + ".") for c in categories for pc in paper_categories)


@dataclass(slots=True)
class Candidates:
    """The papers of one period, with their vectors and indexes for matching."""

    start: dt.date
    end: dt.date
    papers: list[Paper]
    trending: list[tuple[int, int]]  # (index into papers, upvotes), best first
    matrix: np.ndarray  # (len(papers), dim) float32; zero rows for papers without a vector
    by_author: dict[str, list[int]] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)
    trending_picks: dict[int, Pick] = field(default_factory=dict)  # shared by all digests
    _category_masks: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    _trending_allowed: dict[tuple[str, ...], list[int]] = field(default_factory=dict)

    def category_mask(self, categories: tuple[str, ...]) -> np.ndarray:
        mask = self._category_masks.get(categories)
        if mask is None:
            mask = np.fromiter(
                (category_allows(categories, p.categories) for p in self.papers),
                dtype=bool,
                count=len(self.papers),
            )
            self._category_masks[categories] = mask
        return mask

    def trending_allowed(self, categories: tuple[str, ...]) -> list[int]:
        """The trending papers (indexes, best first) a category filter lets through."""
        allowed = self._trending_allowed.get(categories)
        if allowed is None:
            mask = self.category_mask(categories)
            allowed = self._trending_allowed[categories] = [c for c, _ in self.trending if mask[c]]
        return allowed


def load_candidates(
    store: SqlStore,
    start: dt.date,
    end: dt.date,
    *,
    vectors: VectorSource | None,
    gravity: float,
    options: ComposeOptions = DEFAULT_OPTIONS,
) -> Candidates:
    """The period's visible submissions and new listings, trending ranked as of its end."""
    items = store.community.listing(start, end, sort="upvotes", limit=100_000)
    as_of = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    ranked = listings.rank_trending(items, now=as_of, gravity=gravity, limit=len(items))
    papers: list[Paper] = [t.item.paper for t in ranked]
    index = {p.id: i for i, p in enumerate(papers)}
    trending = [(i, t.item.upvotes) for i, t in enumerate(ranked)]
    weekly = start != end
    trending_picks = {
        i: Pick(papers[i], TRENDING, _trending_reason(up, weekly), float(up)) for i, up in trending
    }
    for paper in store.papers.papers_published_between(start, end, limit=options.max_candidates):
        if paper.id not in index:
            index[paper.id] = len(papers)
            papers.append(paper)
    by_author: dict[str, list[int]] = defaultdict(list)
    for i, paper in enumerate(papers):
        for name in paper.authors:
            by_author[normalize_name(name)].append(i)
    matrix = _matrix([p.id for p in papers], vectors)
    return Candidates(start, end, papers, trending, matrix, dict(by_author), index, trending_picks)


def _matrix(paper_ids: list[str], vectors: VectorSource | None) -> np.ndarray:
    found = vectors.vectors_for(paper_ids) if vectors is not None and paper_ids else {}
    dim = len(next(iter(found.values()))) if found else 1
    matrix = np.zeros((len(paper_ids), dim), dtype=np.float32)
    for i, paper_id in enumerate(paper_ids):
        vector = found.get(paper_id)
        if vector is not None:
            matrix[i] = vector
    if paper_ids and len(found) < len(paper_ids):
        log.info(
            "%d of %d candidate papers have no vector yet",
            len(paper_ids) - len(found),
            len(paper_ids),
        )
    return matrix


@dataclass(slots=True)
class _Interests:
    """The distinct interests of a batch of subscribers, and whose they are."""

    vectors: np.ndarray  # (distinct interests, dim)
    reasons: list[tuple[str, str]]  # (kind, reason) of each
    owners: np.ndarray  # batch positions of the subscribers with interests
    ids: np.ndarray  # (len(owners), most interests of one): each owner's in order, -1 after


class Composer:
    """Composes the digests of one period for any number of subscribers."""

    def __init__(
        self,
        store: SqlStore,
        candidates: Candidates,
        vectors: VectorSource | None,
        options: ComposeOptions = DEFAULT_OPTIONS,
        *,
        query_cache: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.store = store
        self.candidates = candidates
        self.vectors = vectors
        self.options = options
        self._queries = query_cache if query_cache is not None else {}

    def compose(self, date: dt.date, subscribers: Sequence[Subscriber]) -> list[Digest]:
        digests: list[Digest] = []
        for begin in range(0, len(subscribers), self.options.chunk):
            digests.extend(
                self._compose_batch(date, subscribers[begin : begin + self.options.chunk])
            )
        return digests

    # -- one batch ---------------------------------------------------------------------------

    def _compose_batch(self, date: dt.date, batch: Sequence[Subscriber]) -> list[Digest]:
        cands = self.candidates
        n, m = len(batch), len(cands.papers)
        if m == 0:
            return [Digest(s, date, cands.start) for s in batch]
        upvoted = self._upvoted(batch)
        scores = np.full((n, m), -np.inf, dtype=np.float32)
        best_interest = np.zeros((n, m), dtype=np.int32)  # which interest gave each score
        interests = self._interests(batch, upvoted)
        reasons = interests.reasons if interests is not None else []
        if interests is not None:
            sims = interests.vectors @ cands.matrix.T  # the one matrix product
            best, which = _best_of_own(sims, interests.ids)
            best[best < self.options.min_similarity] = -np.inf
            scores[interests.owners] = best
            best_interest[interests.owners] = which
        by_author = self._follow_authors(batch, scores)
        blocked = self._blocked(batch, upvoted)
        self._exclude(batch, scores, blocked)
        top = min(max(s.prefs.max_papers for s in batch), m)
        order = (
            np.argpartition(-scores, top - 1, axis=1)[:, :top]
            if top < m
            else np.tile(np.arange(m), (n, 1))
        )
        top_scores = np.take_along_axis(scores, order, axis=1)
        rank = np.argsort(-top_scores, axis=1, kind="stable")
        ranked = np.take_along_axis(order, rank, axis=1)
        sorted_scores = np.take_along_axis(top_scores, rank, axis=1)
        finite = np.isfinite(sorted_scores).sum(axis=1).tolist()
        ranked_scores = sorted_scores.tolist()
        ranked_interests = np.take_along_axis(best_interest, ranked, axis=1).tolist()
        digests = []
        for pos, (subscriber, chosen) in enumerate(zip(batch, ranked.tolist(), strict=True)):
            k = finite[pos]
            personal = zip(chosen[:k], ranked_scores[pos], ranked_interests[pos], strict=False)
            digests.append(
                self._digest(
                    date,
                    subscriber,
                    personal,
                    by_author.get(pos, {}),
                    blocked.get(pos, set()),
                    reasons,
                )
            )
        return digests

    def _digest(
        self,
        date: dt.date,
        subscriber: Subscriber,
        personal: Iterable[tuple[int, float, int]],
        by_author: dict[int, str],
        blocked: set[int],
        reasons: list[tuple[str, str]],
    ) -> Digest:
        """`personal`: (candidate, score, interest) of the picks, best first."""
        cands = self.candidates
        n = subscriber.prefs.max_papers
        allowed = cands.trending_allowed(subscriber.prefs.categories)
        first_allowed = list(islice((c for c in allowed if c not in blocked), n))
        reserve = min(self.options.trending_reserve, n // 2, len(first_allowed))
        picks = []
        taken = set()
        for c, score, interest in islice(personal, n - reserve):
            taken.add(c)
            author = by_author.get(c)
            if author is not None:
                picks.append(
                    Pick(cands.papers[c], "author", f"by an author you follow: {author}", 1.0)
                )
            else:
                kind, reason = reasons[interest]
                picks.append(Pick(cands.papers[c], kind, reason, score))
        trending = [cands.trending_picks[c] for c in first_allowed if c not in taken]
        del trending[n - len(picks) :]
        return Digest(subscriber, date, cands.start, picks, trending)

    # -- inputs ------------------------------------------------------------------------------

    def _upvoted(self, batch: Sequence[Subscriber]) -> dict[int, list[str]]:
        users = [s.user_id for s in batch if s.user_id is not None]
        if not users:
            return {}
        return self.store.community.votes_by_users(users, per_user=self.options.upvotes_per_user)

    def _interests(
        self, batch: Sequence[Subscriber], upvoted: dict[int, list[str]]
    ) -> _Interests | None:
        if self.vectors is None or not self.candidates.matrix.any():
            return None
        liked = {
            s.user_id: upvoted.get(s.user_id, [])
            for s in batch
            if s.prefs.like_upvoted and s.user_id is not None
        }
        liked_ids = sorted({pid for ids in liked.values() for pid in ids})
        liked_vectors = self.vectors.vectors_for(liked_ids) if liked_ids else {}
        titles = (
            {p.id: p.title for p in self.store.papers.get_papers(list(liked_vectors))}
            if liked_vectors
            else {}
        )
        ids: dict[tuple[str, str], int] = {}  # (kind, search or paper id) -> interest
        vectors: list[np.ndarray] = []
        reasons: list[tuple[str, str]] = []
        owners: list[int] = []
        rows: list[list[int]] = []
        for pos, subscriber in enumerate(batch):
            wanted = [("search", search) for search in subscriber.prefs.searches]
            wanted += [
                ("upvoted", paper_id)
                for paper_id in liked.get(subscriber.user_id, ())  # type: ignore[arg-type]
                if paper_id in liked_vectors
            ]
            for key in wanted:
                if key not in ids:
                    ids[key] = len(reasons)
                    kind, value = key
                    if kind == "search":
                        vectors.append(self._query_vector(value))
                        reasons.append((kind, f"matches your search '{value}'"))
                    else:
                        vectors.append(liked_vectors[value])
                        title = _short(titles.get(value, value))
                        reasons.append((kind, f"like '{title}' you upvoted"))
            if wanted:
                owners.append(pos)
                rows.append([ids[key] for key in wanted])
        if not rows:
            return None
        table = np.full((len(rows), max(map(len, rows))), -1, dtype=np.int32)
        for i, row in enumerate(rows):
            table[i, : len(row)] = row
        return _Interests(np.asarray(vectors, dtype=np.float32), reasons, np.asarray(owners), table)

    def _query_vector(self, text: str) -> np.ndarray:
        key = " ".join(text.casefold().split())
        vector = self._queries.get(key)
        if vector is None:
            vector = np.asarray(self.vectors.embed_query(text), dtype=np.float32)  # type: ignore[union-attr]
            self._queries[key] = vector
        return vector

    def _follow_authors(
        self, batch: Sequence[Subscriber], scores: np.ndarray
    ) -> dict[int, dict[int, str]]:
        """Boost papers by followed authors above any similarity; returns, per subscriber, the
        followed name of each such candidate."""
        found: dict[int, dict[int, str]] = {}
        by_author = self.candidates.by_author
        for pos, subscriber in enumerate(batch):
            for name in subscriber.prefs.authors:
                for c in by_author.get(normalize_name(name), ()):
                    names = found.setdefault(pos, {})
                    if c not in names:
                        names[c] = name
                        scores[pos, c] = 2.0
        return found

    def _blocked(
        self, batch: Sequence[Subscriber], upvoted: dict[int, list[str]]
    ) -> dict[int, set[int]]:
        """Candidates each subscriber must not get: sent before, or upvoted themselves."""
        index = self.candidates.index
        position = {s.id: pos for pos, s in enumerate(batch)}
        blocked: dict[int, set[int]] = defaultdict(set)
        for subscriber_id, paper_id in self.store.subscriptions.sent_papers(
            list(position), list(index)
        ):
            blocked[position[subscriber_id]].add(index[paper_id])
        for pos, subscriber in enumerate(batch):
            for paper_id in upvoted.get(subscriber.user_id, ()) if subscriber.user_id else ():
                if paper_id in index:
                    blocked[pos].add(index[paper_id])
        return blocked

    def _exclude(
        self, batch: Sequence[Subscriber], scores: np.ndarray, blocked: dict[int, set[int]]
    ) -> None:
        """No personal pick outside a subscriber's categories, nor among their blocked papers."""
        by_categories: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for pos, subscriber in enumerate(batch):
            if subscriber.prefs.categories:
                by_categories[subscriber.prefs.categories].append(pos)
        for categories, positions in by_categories.items():
            outside = np.flatnonzero(~self.candidates.category_mask(categories))
            scores[np.ix_(np.array(positions, dtype=np.intp), outside)] = -np.inf
        for pos, papers in blocked.items():
            scores[pos, list(papers)] = -np.inf


def _best_of_own(sims: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of `ids` (one subscriber's interests) and each candidate: the best
    similarity among those interests, and the first interest reaching it."""
    best = sims[ids[:, 0]]
    which = np.repeat(ids[:, :1], sims.shape[1], axis=1)
    for k in range(1, ids.shape[1]):
        rows = np.flatnonzero(ids[:, k] >= 0)
        other = sims[ids[rows, k]]
        better = other > best[rows]
        best[rows] = np.where(better, other, best[rows])
        which[rows] = np.where(better, ids[rows, k][:, None], which[rows])
    return best, which


def _short(title: str, limit: int = 80) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def _trending_reason(upvotes: int, weekly: bool) -> str:
    if not upvotes:
        return "new on the feed"
    return "trending this week" if weekly else "trending today"
