"""What goes into each subscriber's digest for a date.

A digest covers one feed day (daily subscribers) or the seven days ending on it (weekly).
Its papers are the period's submissions and new arXiv listings ("candidates"):

* personal picks, ranked by the one ranker of personal feeds (paperfeed.recommend): the
  subscriber's saved searches, followed authors and (for a linked account that wants them) its
  recent upvotes are their signals; papers by a followed author (names matched case- and
  accent-insensitively, initials too) come first. A pick needs evidence: a followed author, an
  author of an upvoted paper, or a cosine of at least `min_similarity` to a search or upvote.
* the period's trending papers (feed.rank_trending as of the end of the period) fill the rest.

Category filters apply to both; papers the subscriber upvoted or was sent in an earlier digest
are never picked. Every paper carries a short reason shown in the e-mail.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from paperfeed import listings
from paperfeed.models import Paper, Preferences, Subscriber
from paperfeed.recommend import CandidatePool, RankOptions, ReaderSignals, Recommender
from paperfeed.recommend.authors import normalize_name
from paperfeed.recommend.pool import category_allows
from paperfeed.recommend.ranker import VectorSource
from paperfeed.recommend.signals import AUTHOR, LIBRARY, LIBRARY_AUTHOR, SEARCH
from paperfeed.store import SqlStore

__all__ = [
    "DEFAULT_OPTIONS",
    "PERSONAL",
    "TRENDING",
    "Candidates",
    "ComposeOptions",
    "Composer",
    "Digest",
    "Pick",
    "VectorSource",
    "category_allows",
    "is_due",
    "load_candidates",
    "normalize_name",
    "period_for",
]

log = logging.getLogger(__name__)

PERSONAL = ("search", "author", "upvoted")
TRENDING = "trending"
# The ranker's kinds of reason as a digest names its picks.
_PICK_KINDS = {SEARCH: "search", AUTHOR: "author", LIBRARY_AUTHOR: "author", LIBRARY: "upvoted"}


@dataclass(frozen=True, slots=True)
class ComposeOptions:
    min_similarity: float = 0.35  # cosine below which a paper is not a personal pick
    trending_reserve: int = 3  # slots kept for trending papers (at most half the digest)
    upvotes_per_user: int = 20  # recent upvotes used as interests
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


@dataclass(slots=True)
class Candidates:
    """The papers of one period, as the ranker's pool, and its trending order."""

    start: dt.date
    end: dt.date
    pool: CandidatePool
    trending: list[tuple[int, int]]  # (index into pool.papers, upvotes), best first
    trending_picks: dict[int, Pick] = field(default_factory=dict)  # shared by all digests
    _trending_allowed: dict[tuple[str, ...], list[int]] = field(default_factory=dict)

    @property
    def papers(self) -> list[Paper]:
        return self.pool.papers

    def trending_allowed(self, categories: tuple[str, ...]) -> list[int]:
        """The trending papers (indexes, best first) a category filter lets through."""
        allowed = self._trending_allowed.get(categories)
        if allowed is None:
            mask = self.pool.category_mask(categories)
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
    trending = [(i, t.item.upvotes) for i, t in enumerate(ranked)]
    weekly = start != end
    trending_picks = {
        i: Pick(papers[i], TRENDING, _trending_reason(up, weekly), float(up)) for i, up in trending
    }
    listed = {p.id for p in papers}
    for paper in store.papers.papers_published_between(start, end, limit=options.max_candidates):
        if paper.id not in listed:
            listed.add(paper.id)
            papers.append(paper)
    found = vectors.vectors_for([p.id for p in papers]) if vectors is not None and papers else {}
    pool = CandidatePool.from_vectors(papers, [found.get(p.id) for p in papers])
    return Candidates(start, end, pool, trending, trending_picks)


class Composer:
    """Composes the digests of one period for any number of subscribers."""

    def __init__(
        self,
        store: SqlStore,
        candidates: Candidates,
        vectors: VectorSource | None,
        options: ComposeOptions = DEFAULT_OPTIONS,
        *,
        query_cache: dict[str, Any] | None = None,
    ) -> None:
        """`query_cache`: saved searches' vectors, shared by the composers of one run."""
        self.store = store
        self.candidates = candidates
        self.options = options
        self.recommender = Recommender(
            store,
            vectors,
            options=RankOptions(min_similarity=options.min_similarity),
            text_cache=query_cache,
        )

    def compose(self, date: dt.date, subscribers: Sequence[Subscriber]) -> list[Digest]:
        upvoted = self._upvoted(subscribers)
        self.recommender.preload([p for papers in upvoted.values() for p in papers])
        sent = self._sent(subscribers)
        return [
            self._digest(
                date,
                subscriber,
                upvoted.get(subscriber.user_id, []) if subscriber.user_id is not None else [],
                sent.get(subscriber.id, set()),
            )
            for subscriber in subscribers
        ]

    def _digest(
        self, date: dt.date, subscriber: Subscriber, upvoted: list[str], sent: set[str]
    ) -> Digest:
        cands = self.candidates
        prefs = subscriber.prefs
        n = prefs.max_papers
        blocked = {cands.pool.index[p] for p in (*sent, *upvoted) if p in cands.pool.index}
        allowed = cands.trending_allowed(prefs.categories)
        first_allowed = list(islice((c for c in allowed if c not in blocked), n))
        reserve = min(self.options.trending_reserve, n // 2, len(first_allowed))
        signals = ReaderSignals(
            searches=prefs.searches,
            authors=prefs.authors,
            upvoted=tuple(upvoted) if prefs.like_upvoted else (),
            category_filter=prefs.categories,
            exclude=(*sent, *upvoted),
        )
        found = self.recommender.rank_pool(cands.pool, signals, n - reserve)
        picks = [Pick(r.paper, _PICK_KINDS.get(r.kind, r.kind), r.reason, r.score) for r in found]
        taken = {cands.pool.index[p.paper.id] for p in picks}
        trending = [cands.trending_picks[c] for c in first_allowed if c not in taken]
        del trending[n - len(picks) :]
        return Digest(subscriber, date, cands.start, picks, trending)

    # -- inputs ------------------------------------------------------------------------------

    def _upvoted(self, batch: Sequence[Subscriber]) -> dict[int, list[str]]:
        users = [s.user_id for s in batch if s.user_id is not None]
        if not users:
            return {}
        return self.store.community.votes_by_users(users, per_user=self.options.upvotes_per_user)

    def _sent(self, batch: Sequence[Subscriber]) -> dict[int, set[str]]:
        """The candidates each subscriber was sent in an earlier digest."""
        sent: dict[int, set[str]] = defaultdict(set)
        for subscriber_id, paper_id in self.store.subscriptions.sent_papers(
            [s.id for s in batch], list(self.candidates.pool.index)
        ):
            sent[subscriber_id].add(paper_id)
        return sent


def _trending_reason(upvotes: int, weekly: bool) -> str:
    if not upvotes:
        return "new on the feed"
    return "trending this week" if weekly else "trending today"
