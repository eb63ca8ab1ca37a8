"""The one ranker of personal feeds: /for-you, the e-mail digest's picks, `paperfeed recommend`
and ``POST /api/recommend`` all call `Recommender`.

A candidate's score adds up, in units of the pool's spread (so that no embedding model's
cosine scale matters):

* **library**: how close it is to the reader's liked papers and texts — the mean cosine of its
  `neighbours` nearest ones (a reader with several topics is matched on each topic, where a mean
  over the whole library blurs them), standardised over the candidates; a liked paper of weight w
  adds ``weight_bonus * ln w`` to its cosines ("more like this" papers weigh 2);
* **library authors**: ``library_author * ln(1 + n) + library_share * n / N`` for its author
  found in the most (n) of the N liked papers, when n >= `frequent_author` (one paper's
  co-authors are weak evidence); the share term from n >= `share_from` (two papers of a small
  library may share an author by chance). The share is what tells a reader's own papers (or
  those of the group they follow closely) from a frequent co-author's: an author of most of
  the library outranks the similarity of any paper;
* **followed authors** and **followed categories**: fixed boosts;
* **saved searches**: like the library, each search's embedding against the candidates;
* **dismissed** papers ("not interested"): papers clearly closer to one (by more than
  `dismissed_margin` cosine) than to any liked paper lose that excess, and each takes
  `dismissed_author` liked papers from its authors' counts (a library author's other papers
  are lowered with it); dismissed papers are never returned.

A paper is recommended only with some evidence: a cosine of `min_similarity` to an interest, an
author, or a followed category. `bench/recommend.py` measures the parts on real authors' papers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from paperfeed.models import Paper
from paperfeed.recommend.authors import author_counts
from paperfeed.recommend.pool import CandidatePool
from paperfeed.recommend.scoring import ReaderProfile, Scored, score_pool
from paperfeed.recommend.signals import LIBRARY, TEXT, ReaderSignals
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

FRESHNESS_SPARE = 5  # extra papers ranked in case some were hidden since the pool was built


class VectorSource(Protocol):
    """What ranking needs from search (search.engine.SearchEngine provides it)."""

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def vectors_for(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True, slots=True)
class RankOptions:
    window_days: int = 7  # the default window: the last this many days
    neighbours: int = 5  # liked papers averaged per candidate (top-k cosine)
    weight_bonus: float = 0.05  # cosine added per ln(weight) of a liked paper
    min_similarity: float = 0.35  # cosine to an interest that counts as evidence
    library_author: float = 1.0  # per ln(1 + liked papers) of the best shared author
    frequent_author: float = 2.0  # liked papers (summed weights) that make an author count
    library_share: float = 8.0  # per share of the liked papers (by weight) the author wrote
    share_from: float = 3.0  # liked papers an author needs before their share counts
    followed_author: float = 4.0
    followed_category: float = 0.5
    search: float = 1.0  # per standard deviation of a saved search's similarity
    dismissed: float = 1.0  # per standard deviation of similarity to a dismissed paper
    dismissed_margin: float = 0.05  # cosine closer to a dismissed paper than to liked ones
    dismissed_author: float = 1.0  # liked papers a dismissed one takes from each of its authors
    max_candidates: int = 5000  # papers of a window considered
    pools_kept: int = 4  # windows whose pools are kept between calls
    papers_kept: int = 20_000  # liked papers whose vector, title and authors are kept


DEFAULT_OPTIONS = RankOptions()


@dataclass(frozen=True, slots=True)
class Recommendation:
    paper: Paper
    score: float
    reason: str  # for people: "like 'X' in your collection Y", "by Z, an author in your library"
    kind: str  # which signal gave the reason (paperfeed.recommend.signals.KINDS)


@dataclass(frozen=True, slots=True)
class _Liked:
    title: str
    authors: tuple[str, ...]
    vector: np.ndarray | None


class Recommender:
    """Ranks a window's papers for one reader's signals; thread-safe, keeps recent pools."""

    def __init__(
        self,
        store: SqlStore,
        vectors: VectorSource | None,
        *,
        model: Callable[[], str] | None = None,
        options: RankOptions = DEFAULT_OPTIONS,
        today: Callable[[], dt.date] | None = None,
        text_cache: dict[str, np.ndarray] | None = None,
    ) -> None:
        """`vectors` gives liked papers' vectors and embeds texts and searches (None: rank by
        authors and categories only). Window pools take the vectors the store holds for the
        embedding model `model()` names (never computed in a request); without `model`, from
        `vectors`. `today` gives the date windows end on by default (UTC today).
        `text_cache` keeps the vectors of texts and searches (default: the latest
        ``options.papers_kept``); several rankers of one run may share one."""
        self.store = store
        self.vectors = vectors
        self.options = options
        self._model = model
        self._today = today or (lambda: dt.datetime.now(dt.UTC).date())
        self._pools: OrderedDict[tuple[dt.date, dt.date], tuple[object, CandidatePool]] = (
            OrderedDict()
        )
        self._liked: OrderedDict[str, _Liked] = OrderedDict()
        self._texts: dict[str, np.ndarray] = OrderedDict() if text_cache is None else text_cache
        self._lock = threading.Lock()

    # -- ranking -----------------------------------------------------------------------------

    def rank(
        self,
        signals: ReaderSignals,
        since: dt.date | None = None,
        until: dt.date | None = None,
        limit: int = 20,
    ) -> list[Recommendation]:
        """The best `limit` papers first published from `since` to `until` (inclusive; default
        the last `window_days` days to today) for `signals`, best first, each with its reason."""
        until = until or self._today()
        since = since or until - dt.timedelta(days=self.options.window_days - 1)
        found = self.rank_pool(self.pool(since, until), signals, limit + FRESHNESS_SPARE)
        # The pool may be a few moments old: the papers shown are read again (hidden ones go).
        fresh = {p.id: p for p in self.store.papers.get_papers([r.paper.id for r in found])}
        return [
            dataclasses.replace(r, paper=fresh[r.paper.id])
            for r in found
            if r.paper.id in fresh and not fresh[r.paper.id].hidden
        ][:limit]

    def rank_pool(
        self, pool: CandidatePool, signals: ReaderSignals, limit: int = 20
    ) -> list[Recommendation]:
        """The best `limit` papers of `pool` for `signals` (see `rank`)."""
        if not len(pool) or limit <= 0 or signals.is_empty:
            return []
        profile = self.profile(signals)
        scored = score_pool(pool, profile, self.options, limit)
        return [self._recommendation(pool, s) for s in scored]

    def pool(self, since: dt.date, until: dt.date) -> CandidatePool:
        """The candidates of a window, rebuilt when a paper of it was added or changed."""
        model = self._model_name()
        seq = self.store.embeddings.latest_embedding_seq(model) if model else 0
        marker = (self.store.papers.published_between_marker(since, until), model, seq)
        with self._lock:
            kept = self._pools.get((since, until))
            if kept is not None and kept[0] == marker:
                self._pools.move_to_end((since, until))
                return kept[1]
        keyed = self.store.papers.keyed_papers_published_between(
            since, until, limit=self.options.max_candidates
        )
        if model is not None:
            pool = CandidatePool.build(self.store, model, keyed)
        else:
            papers = [p for _, p in keyed]
            found = self.vectors.vectors_for([p.id for p in papers]) if self.vectors else {}
            pool = CandidatePool.from_vectors(papers, [found.get(p.id) for p in papers])
        with self._lock:
            self._pools[(since, until)] = (marker, pool)
            while len(self._pools) > self.options.pools_kept:
                self._pools.popitem(last=False)
        return pool

    def _model_name(self) -> str | None:
        """The embedding model's name; None (rank by authors and categories) when it cannot
        be loaded, which is logged."""
        if self._model is None:
            return None
        try:
            return self._model()
        except Exception:  # a missing or broken model must not break the page
            log.exception("recommendations without similarity: no embedding model")
            return None

    # -- the reader --------------------------------------------------------------------------

    def profile(self, signals: ReaderSignals) -> ReaderProfile:
        """The reader's interests as vectors, weights, author counts and exclusions."""
        weights: dict[str, tuple[float, str]] = {}  # paper id -> (weight, origin), strongest
        for positive in signals.positives:
            _keep_strongest(weights, positive.paper_id, positive.weight, positive.origin)
        for paper_id in signals.upvoted:
            _keep_strongest(weights, paper_id, 1.0, "you upvoted")
        for paper_id in signals.more_like:
            _keep_strongest(weights, paper_id, 2.0, "you asked for more like it")
        liked = self._liked_papers([*weights, *signals.dismissed])
        interests: list[tuple[np.ndarray, float, str, str]] = []  # (vector, weight, reason, kind)
        for paper_id, (weight, origin) in weights.items():
            info = liked.get(paper_id)
            if info is not None and info.vector is not None:
                reason = f"like '{_short(info.title)}' {origin}"
                interests.append((info.vector, weight, reason, LIBRARY))
        text_vectors = self._text_vectors([t.text for t in signals.texts])
        for text, vector in zip(signals.texts, text_vectors, strict=True):
            if vector is not None:
                reason = f"like '{_short(text.title)}' {text.origin}"
                interests.append((vector, text.weight, reason, TEXT))
        searches = self._text_vectors(signals.searches, queries=True)
        # "not interested" in a paper counts against its authors: a library author's other
        # papers are lowered with it
        counted = [(pid, weight) for pid, (weight, _) in weights.items()]
        counted += [
            (pid, -self.options.dismissed_author) for pid in signals.dismissed if pid not in weights
        ]
        library_authors = author_counts(
            (liked[pid].authors, weight) for pid, weight in counted if pid in liked
        )
        library_weight = sum(weight for pid, (weight, _) in weights.items() if pid in liked)
        dismissed = [liked[p].vector for p in signals.dismissed if p in liked]
        return ReaderProfile(
            interests=interests,
            searches=[
                (v, f"matches your search '{s}'")
                for s, v in zip(signals.searches, searches, strict=True)
                if v is not None
            ],
            library_authors=library_authors,
            library_weight=library_weight,
            followed_authors=signals.authors,
            categories=signals.categories,
            category_filter=signals.category_filter,
            dismissed=[v for v in dismissed if v is not None],
            never={*weights, *signals.dismissed, *signals.exclude},
        )

    def preload(self, paper_ids: Sequence[str]) -> None:
        """Read the papers many readers like (a digest's subscribers' upvotes) in one go, so
        that ranking each reader reads none of them again."""
        self._liked_papers(list(dict.fromkeys(paper_ids))[: self.options.papers_kept])

    def _liked_papers(self, paper_ids: Sequence[str]) -> dict[str, _Liked]:
        """Title, authors and vector of each known paper, from the kept ones or the store."""
        found: dict[str, _Liked] = {}
        with self._lock:
            for paper_id in paper_ids:
                info = self._liked.get(paper_id)
                if info is not None:
                    self._liked.move_to_end(paper_id)
                    found[paper_id] = info
        missing = [p for p in dict.fromkeys(paper_ids) if p not in found]
        if not missing:
            return found
        papers = self.store.papers.get_papers(missing)
        vectors = self._paper_vectors([p.id for p in papers])
        fresh = {p.id: _Liked(p.title, tuple(p.authors), _unit(vectors.get(p.id))) for p in papers}
        with self._lock:
            self._liked.update(fresh)
            while len(self._liked) > self.options.papers_kept:
                self._liked.popitem(last=False)
        return found | fresh

    def _paper_vectors(self, paper_ids: list[str]) -> dict[str, np.ndarray]:
        """The vectors the store holds for the model (when it is known), else from `vectors`
        (which may compute them)."""
        found: dict[str, np.ndarray] = {}
        model = self._model_name()
        if model is not None and paper_ids:
            keys = self.store.papers.paper_keys(paper_ids)
            stored = self.store.embeddings.get_embeddings(model, list(keys.values()))
            found = {pid: stored[key][0] for pid, key in keys.items() if key in stored}
        missing = [p for p in paper_ids if p not in found]
        if missing and self.vectors is not None:
            found.update(self.vectors.vectors_for(missing))
        return found

    def _text_vectors(
        self, texts: Sequence[str], *, queries: bool = False
    ) -> list[np.ndarray | None]:
        """Embeddings of free texts (as documents, in one batch) or of saved searches (as
        queries), kept between calls; None without a model."""
        if self.vectors is None or not texts:
            return [None] * len(texts)
        keys = [("q " if queries else "d ") + " ".join(t.casefold().split()) for t in texts]
        with self._lock:
            known = {k: self._texts[k] for k in keys if k in self._texts}
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in known}
        if missing:
            if queries:
                fresh = [self.vectors.embed_query(t) for t in missing.values()]
            else:
                fresh = list(self.vectors.embed_documents(list(missing.values())))
            with self._lock:
                for key, vector in zip(missing, fresh, strict=True):
                    unit = _unit(np.asarray(vector, dtype=np.float32))
                    if unit is not None:
                        known[key] = self._texts[key] = unit
                if isinstance(self._texts, OrderedDict):
                    while len(self._texts) > self.options.papers_kept:
                        self._texts.popitem(last=False)
        return [known.get(k) for k in keys]

    def _recommendation(self, pool: CandidatePool, scored: Scored) -> Recommendation:
        return Recommendation(
            pool.papers[scored.position], scored.score, scored.reason, scored.kind
        )


def _keep_strongest(
    weights: dict[str, tuple[float, str]], paper_id: str, weight: float, origin: str
) -> None:
    if weight > 0 and (paper_id not in weights or weight > weights[paper_id][0]):
        weights[paper_id] = (weight, origin)


def _unit(vector: np.ndarray | None) -> np.ndarray | None:
    if vector is None:
        return None
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


def _short(title: str, limit: int = 80) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"
