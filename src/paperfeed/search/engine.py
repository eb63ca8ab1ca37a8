"""Answering searches: keyword (BM25) + dense (embeddings) fused, similar papers, neighbours.

A search arrives as a parsed ``paperfeed.query.Query`` (built once, by whoever took the text).
An arXiv id or URL finds that paper, an exact title comes first, and otherwise keyword and
nearest-neighbour candidates are fused by reciprocal rank. Papers not embedded yet are still
found by keyword search. The vectors come from search.indexing's SearchIndexer.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.errors import InvalidRecord, NotFound
from paperfeed.models import Paper
from paperfeed.query import Query
from paperfeed.search.hybrid import reciprocal_rank_fusion
from paperfeed.search.indexing import SearchIndexer, paper_text, text_hash
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

KEYWORD_DEPTH = 200  # keyword candidates fused for relevance ranking
DENSE_DEPTH = 200  # dense candidates fused (more are fetched when filters drop some)
SORTED_DEPTH = 1000  # keyword matches re-sorted for sort=date|upvotes (more for deeper pages)
SORTED_DENSE = 50  # dense neighbours added to that set
DENSE_WIDENING = 8  # at most k x this many neighbours are fetched to find k passing the filters
DENSE_ENOUGH = 0.25  # ...and no more once k x this many pass (ranks beyond add little to fusion)
MODES = ("hybrid", "keyword", "dense")
# Keyword matches are counted up to this many (PostgreSQL counts each one; 500 pages of 20):
# beyond it the total is a lower bound.
COUNT_CAP = 10_000

# (key, score, keyword rank, dense rank)
Ranked = tuple[int, float, int | None, int | None]


@dataclass(slots=True)
class SearchHit:
    paper: Paper
    score: float
    keyword_rank: int | None = None  # 1-based rank among keyword matches, None if not matched
    dense_rank: int | None = None  # 1-based rank among nearest neighbours, None if not one


@dataclass(slots=True)
class SearchResults:
    hits: list[SearchHit]
    total: int  # results on all pages together
    message: str | None
    query: Query  # as searched, with any message search added (for highlighting and snippets)
    more: bool = False  # more than `total` match: counting stopped at COUNT_CAP


def _norm_title(title: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", title.casefold()).split())


class SearchEngine:
    """Hybrid search, similar papers and paper/query vectors over one store."""

    def __init__(self, store: SqlStore, indexer: SearchIndexer) -> None:
        self.store = store
        self.indexer = indexer
        self._embedder_error: str | None = None

    # -- search ------------------------------------------------------------------------------

    def search(self, query: Query, *, mode: str = "hybrid") -> SearchResults:
        """The papers for a parsed query (see paperfeed.query for the syntax).

        `mode`: "hybrid" (default), or "keyword" / "dense" for one side only (benchmarks).
        """
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
        query = dataclasses.replace(query, messages=list(query.messages))  # the caller's stays
        if query.empty_range:
            return SearchResults([], 0, query.message, query)
        by_id = self._by_arxiv_id(query)
        if by_id is not None:
            return by_id
        if not query.has_text:
            keys, total = self.store.papers.list_keys(query, query.limit, query.offset)
            hits = [SearchHit(p, 0.0) for p in self.store.papers.papers_by_keys(keys)]
            return SearchResults(hits, total, query.message, query)
        head, tail, truncated = self._rank(query, mode)
        total, more = self._total(query, head, tail, truncated)
        pinned = self._exact_title(query)
        if pinned is not None:
            top = head[0][1] + 1.0 if head else 1.0
            if not truncated and all(r[0] != pinned for r in head + tail):
                total += 1  # not a keyword match (those are all ranked)
            head = [(pinned, top, None, None)] + [r for r in head if r[0] != pinned]
            tail = [r for r in tail if r[0] != pinned]
        if query.sort != "relevance":
            head, tail = self._sorted(head, query.sort), self._sorted(tail, query.sort)
        page = (head + tail)[query.offset : query.offset + query.limit]
        found = self.store.papers.papers_by_key([r[0] for r in page])
        hits = [
            SearchHit(found[key], score, krank, drank)
            for key, score, krank, drank in page
            if key in found
        ]
        return SearchResults(hits, total, query.message, query, more)

    def _sorted(self, ranked: list[Ranked], sort: str) -> list[Ranked]:
        by_key = {r[0]: r for r in ranked}
        return [by_key[k] for k in self.store.papers.sort_keys(list(by_key), sort)]

    def _total(
        self, query: Query, head: list[Ranked], tail: list[Ranked], truncated: bool
    ) -> tuple[int, bool]:
        """How many results all pages hold, and whether more match (COUNT_CAP reached): with
        every keyword match ranked, those ranked; else all keyword matches plus the nearest
        neighbours in `head` that are not one (a neighbour may match the words further down
        than the keyword matches fetched)."""
        if not truncated:
            return len(head) + len(tail), False
        matches = self.store.papers.keyword_count(query, COUNT_CAP)
        if matches >= COUNT_CAP:
            return matches, True
        neighbours = [r[0] for r in head if r[2] is None]
        also_matching = self.store.papers.keyword_count(query, COUNT_CAP, among=neighbours)
        return matches + len(neighbours) - also_matching, False

    def _rank(self, query: Query, mode: str = "hybrid") -> tuple[list[Ranked], list[Ranked], bool]:
        """(key, score, keyword rank, dense rank) of the relevant papers: the head, the best
        keyword matches fused with the nearest neighbours, then the tail, keyword matches
        further down (in keyword order) as far as the query's page needs them; and whether
        keyword matches beyond those were left out.

        The head is the same for every page, so pages never overlap: the tail only follows it.
        Sorted by date or upvotes, the tail holds every keyword match (to COUNT_CAP) when a
        page reaches it, so that it sorts the same for every page."""
        sorting = query.sort != "relevance"
        head_depth = SORTED_DEPTH if sorting else KEYWORD_DEPTH
        wanted = query.offset + query.limit
        depth = head_depth
        if wanted > head_depth:  # the head may hold up to DENSE_DEPTH keyword matches more
            depth = COUNT_CAP if sorting else wanted + DENSE_DEPTH
        # One side after the other: tantivy already searches its shards side by side, and a
        # third busy thread on 2 cores made hybrid slower (1M papers: p95 27 -> 20 ms).
        keyword: list[tuple[int, float]] = []
        dense: list[tuple[int, float]] = []
        if mode != "dense":
            keyword = self.store.papers.keyword_search(query, depth)
        truncated = len(keyword) >= depth
        if mode != "keyword":
            dense = self._dense(query, SORTED_DENSE if sorting else DENSE_DEPTH)
        if mode == "dense":
            nearest: list[Ranked] = [(k, score, None, n) for n, (k, score) in enumerate(dense, 1)]
            return nearest, [], False
        if sorting and not keyword and mode == "hybrid":
            dense = self._dense(query, DENSE_DEPTH)
        ranked: list[Ranked] = [(k, score, n, None) for n, (k, score) in enumerate(keyword, 1)]
        head, tail = ranked[:head_depth], ranked[head_depth:]
        if dense:
            fused = reciprocal_rank_fusion([r[0] for r in head], [k for k, _ in dense])
            head = [(f.key, f.score, f.keyword_rank, f.dense_rank) for f in fused]
            in_head = {r[0] for r in head}
            tail = [r for r in tail if r[0] not in in_head]
        return head, tail, truncated

    def _dense(self, query: Query, k: int) -> list[tuple[int, float]]:
        """Nearest neighbours of the query text that pass its filters, best first."""
        if not query.semantic_text:
            return []
        vector = self._query_vector(query)
        if vector is None:
            return []
        fetch = k * 2 if query.has_filters or query.required else k
        found: dict[int, float] = {}
        checked: set[int] = set()
        while True:  # wider while filters leave too few; each neighbour is checked once
            hits = self.indexer.neighbours(vector, fetch)
            fresh = [(key, score) for key, score in hits if key not in checked]
            kept = self.store.papers.filter_keys([key for key, _ in fresh], query)
            found.update((key, score) for key, score in fresh if key in kept)
            checked.update(key for key, _ in fresh)
            if len(found) >= k * DENSE_ENOUGH or len(hits) < fetch or fetch >= k * DENSE_WIDENING:
                return sorted(found.items(), key=lambda hit: -hit[1])[:k]
            fetch *= 4

    def _query_vector(self, query: Query) -> np.ndarray | None:
        """The query's embedding; None (keyword-only) when nothing is embedded or no model."""
        try:
            self.indexer.refresh()
            if self.indexer.vector_count() == 0:
                return None
            return self.indexer.embedder.embed_query(query.semantic_text)
        except Exception as error:  # a missing/broken model must not break keyword search
            if self._embedder_error is None:
                log.exception("semantic search unavailable")
            self._embedder_error = str(error)
            query.messages.append("Semantic search is unavailable; showing keyword matches.")
            return None

    def _by_arxiv_id(self, query: Query) -> SearchResults | None:
        """A query that is just an arXiv id or URL: that paper, or a message that it is absent."""
        raw = query.raw.strip()
        if not raw or len(raw) > 200 or " " in raw:
            return None
        try:
            paper_id, _ = parse_arxiv_id(raw)
        except InvalidRecord:
            return None
        key = self.store.papers.paper_keys([paper_id]).get(paper_id)
        if key is None or not self.store.papers.filter_keys([key], query):
            message = f"arXiv:{paper_id} is not in this collection."
            return SearchResults([], 0, message, query)
        paper = self.store.papers.get_paper(paper_id)
        return SearchResults([SearchHit(paper, 1.0)], 1, query.message, query)

    def _exact_title(self, query: Query) -> int | None:
        """The key of the visible paper whose title is exactly the query, if one is."""
        title = query.raw.strip().strip("\"'")
        if len(title) < 8 or len(title) > 500:
            return None
        key = self.store.papers.key_by_title(title)
        if key is None or not self.store.papers.filter_keys([key], query):
            return None
        return key

    # -- vectors and neighbours (also what the digest composes with) ---------------------------

    def embed_query(self, text: str) -> np.ndarray:
        return self.indexer.embedder.embed_query(text)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Embeddings of texts as documents, in one batch (a reader's free-text interests)."""
        return self.indexer.embedder.embed_documents(texts)

    def vectors_for(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The embedding of each known paper (stored, or computed now when missing or stale)."""
        keys = self.store.papers.paper_keys(list(paper_ids))
        if not keys:
            return {}
        model = self.indexer.model
        stored = self.store.embeddings.get_embeddings(model, list(keys.values()))
        papers = {p.id: p for p in self.store.papers.get_papers(list(keys))}
        result: dict[str, np.ndarray] = {}
        missing: list[tuple[str, str]] = []
        for paper_id, key in keys.items():
            text = paper_text(papers[paper_id].title, papers[paper_id].abstract)
            if key in stored and stored[key][1] == text_hash(text):
                result[paper_id] = stored[key][0]
            else:
                missing.append((paper_id, text))
        if missing:
            vectors = self.indexer.embedder.embed_documents([text for _, text in missing])
            result.update({pid: v for (pid, _), v in zip(missing, vectors, strict=True)})
        return result

    def nearest(
        self, vector: np.ndarray, k: int = 10, exclude_ids: Sequence[str] = ()
    ) -> list[tuple[Paper, float]]:
        """The `k` visible papers nearest to `vector` (cosine), skipping `exclude_ids`."""
        exclude = (
            set(self.store.papers.paper_keys(list(exclude_ids)).values()) if exclude_ids else set()
        )
        self.indexer.refresh()
        want = k + 10
        while True:
            hits = self.indexer.neighbours(vector, want, exclude)
            found = self.store.papers.papers_by_key([key for key, _ in hits])
            visible = [(found[key], s) for key, s in hits if key in found and not found[key].hidden]
            if len(visible) >= k or len(hits) < want:
                return visible[:k]
            want *= 4

    def similar(self, paper_id: str, limit: int = 10) -> list[Paper]:
        """Papers most like `paper_id` (itself, its versions and same-title copies excluded)."""
        try:
            paper_id, _ = parse_arxiv_id(paper_id)
        except InvalidRecord:
            paper_id = paper_id.strip()
        paper = self.store.papers.get_paper(paper_id)  # raises NotFound
        vector = self.vectors_for([paper.id]).get(paper.id)
        if vector is None:
            raise NotFound(f"no paper {paper_id!r}")
        seen = {_norm_title(paper.title)}
        result: list[Paper] = []
        for other, _ in self.nearest(vector, limit * 2 + 5, exclude_ids=[paper.id]):
            title = _norm_title(other.title)
            if other.id == paper.id or title in seen:
                continue
            seen.add(title)
            result.append(other)
            if len(result) == limit:
                break
        return result
