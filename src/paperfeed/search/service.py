"""Search over the store: keyword (BM25) + dense (embeddings) fused, similar papers, indexing.

Embeddings live in the store's ``embeddings`` table (the truth); the ANN index file in the data dir
is a cache of it, kept in step by ``seq``: the index remembers the highest seq it holds and
``sync()`` catches up, or rebuilds when the file is missing, unreadable or inconsistent.
Papers not embedded yet are still found by keyword search.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.config import Settings
from paperfeed.errors import InvalidRecord, NotFound
from paperfeed.models import Paper
from paperfeed.query import Query, parse_query
from paperfeed.search.embed import Embedder, document_text, load_embedder
from paperfeed.search.hybrid import reciprocal_rank_fusion
from paperfeed.search.vectors import VectorIndex
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

KEYWORD_DEPTH = 200  # keyword candidates fused for relevance ranking
DENSE_DEPTH = 200  # dense candidates fused (more are fetched when filters drop some)
SORTED_DEPTH = 1000  # keyword matches re-sorted for sort=date|upvotes
SORTED_DENSE = 50  # dense neighbours added to that set
DENSE_WIDENING = 8  # at most k x this many neighbours are fetched to find k passing the filters
DENSE_ENOUGH = 0.25  # ...and no more once k x this many pass (ranks beyond add little to fusion)
EMBED_BATCH = 64
CANDIDATE_PAGE = 2000
REFRESH_SECONDS = 5.0  # how often searches look for embeddings another process added
SAVE_EVERY_SECONDS = 60.0  # while indexing, how often the ANN file is written
WATERMARK_MARGIN = dt.timedelta(minutes=10)  # re-check papers modified this long before a run


@dataclass(slots=True)
class SearchHit:
    paper: Paper
    score: float
    keyword_rank: int | None = None  # 1-based rank among keyword matches, None if not matched
    dense_rank: int | None = None  # 1-based rank among nearest neighbours, None if not one


@dataclass(slots=True)
class SearchResults:
    hits: list[SearchHit]
    total_estimate: int
    message: str | None
    query: Query


def text_hash(text: str) -> str:
    """32 hex digits identifying the embedded text (a change means re-embedding)."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _paper_text(title: str, abstract: str | None) -> str:
    return document_text(title, abstract)


def _norm_title(title: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", title.casefold()).split())


class SearchService:
    """Hybrid search, similar papers and the embedding index for one store."""

    def __init__(
        self, store: SqlStore, settings: Settings, *, embedder: Embedder | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self._embedder = embedder
        self._embedder_error: str | None = None
        self._index: VectorIndex | None = None
        self._dirty = False  # the in-memory index holds more than its file
        self._lock = threading.RLock()  # guards the in-memory ANN index
        self._indexing = threading.Lock()  # one index() run at a time
        self._thread: threading.Thread | None = None
        self._checked_at = 0.0
        self._seen_seq: int | None = None  # the highest embedding seq at the last sync
        self._stored_vectors: int | None = None  # when the store searches vectors itself

    # -- embedder and ANN index --------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedding model (loaded on first use)."""
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embedder)
        return self._embedder

    @property
    def model(self) -> str:
        return self.embedder.name

    @property
    def index_path(self) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.model)
        return self.settings.data_dir / f"vectors.{safe}.usearch"

    @property
    def vector_index(self) -> VectorIndex:
        """The ANN index, opened and synced with the embeddings table on first use."""
        with self._lock:
            if self._index is None:
                self.sync()
            assert self._index is not None
            return self._index

    def _open_index(self) -> VectorIndex:
        try:
            return VectorIndex.open(self.index_path, self.embedder.dim, self.model)
        except Exception as error:  # unreadable file: start empty, sync() rebuilds it
            log.warning("cannot read %s (%s); it will be rebuilt", self.index_path, error)
            return VectorIndex(self.embedder.dim, self.index_path, self.model)

    def sync(self, *, save: bool = True) -> str:
        """Bring the ANN index in step with the embeddings table; says what it did."""
        with self._lock:
            self._checked_at = time.monotonic()
            if self.store.vectors_in_store:  # pgvector: the database is the index, no file
                self._stored_vectors, self._seen_seq = self.store.embeddings.embedding_status(
                    self.model
                )
                return f"{self._stored_vectors} vectors, searched in the database"
            if self._index is None:
                self._index = self._open_index()
                self._dirty = False
            index = self._index
            count, top = self.store.embeddings.embedding_status(self.model)
            self._seen_seq = top
            marker = index.synced_through
            if not isinstance(marker, int) or marker > top:
                done = self._rebuild(index)
            elif marker < top:
                done = f"added {self._catch_up(index, marker)} vectors"
                if len(index) != count:
                    done = self._rebuild(index)
            elif len(index) != count:
                done = self._rebuild(index)
            else:
                done = "in sync"
            if save and self._dirty:
                index.save(index.synced_through)
                self._dirty = False
            return done

    def _catch_up(self, index: VectorIndex, marker: int) -> int:
        added, keys, vectors = 0, [], []
        for key, vector, seq in self.store.embeddings.embeddings_since(self.model, marker):
            keys.append(key)
            vectors.append(vector)
            marker = seq
            if len(keys) >= 5000:
                index.add(np.array(keys), np.stack(vectors))
                added, keys, vectors = added + len(keys), [], []
        if keys:
            index.add(np.array(keys), np.stack(vectors))
            added += len(keys)
        index.synced_through = marker
        self._dirty = True
        return added

    def _rebuild(self, index: VectorIndex) -> str:
        rows = list(self.store.embeddings.embeddings_since(self.model, 0))
        keys = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.stack([r[1] for r in rows]) if rows else np.zeros((0, index.dim), np.float32)
        index.rebuild(keys, vectors)
        index.synced_through = max((r[2] for r in rows), default=0)
        self._dirty = True
        return f"rebuilt with {len(index)} vectors"

    def rebuild_index(self) -> int:
        """Rebuild the ANN index from the embeddings table; returns how many vectors it holds."""
        if self.store.vectors_in_store:
            self.sync()
            return self.vector_count()
        with self._lock:
            if self._index is None:
                self._index = self._open_index()
            self._rebuild(self._index)
            self._index.save(self._index.synced_through)
            self._dirty = False
            return len(self._index)

    def vector_count(self) -> int:
        """How many papers semantic search can find (vectors in the ANN index or database)."""
        if self.store.vectors_in_store:
            if self._stored_vectors is None:
                self.sync()
            return self._stored_vectors or 0
        return len(self.vector_index)

    def _neighbours(
        self, vector: np.ndarray, k: int, exclude: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """(key, cosine) of the `k` nearest vectors, from the store if it can, else the index."""
        found = self.store.embeddings.nearest_keys(self.model, vector, k, exclude or ())
        if found is not None:
            return found
        with self._lock:
            return self.vector_index.search(vector, k, exclude=exclude)

    def _refresh(self) -> None:
        """Pick up embeddings written by another process: at most every few seconds, one index
        lookup, and a sync only when there are new ones (counting 1M rows takes ~1 s)."""
        if time.monotonic() - self._checked_at < REFRESH_SECONDS or self._indexing.locked():
            return
        self._checked_at = time.monotonic()
        if self.store.embeddings.latest_embedding_seq(self.model) != self._seen_seq:
            self.sync(save=False)

    # -- indexing ----------------------------------------------------------------------------

    def _watermark_key(self) -> str:
        return f"search.embedded_through:{self.model}"

    def pending(self) -> int:
        """How many papers index() would embed now (new, or title/abstract changed)."""
        return sum(len(todo) for todo in self._stale_pages(self._since()))

    def _stale_pages(self, since: dt.datetime | None) -> Iterator[list[tuple[int, str, str]]]:
        """Pages of (key, text, text hash) of papers whose embedding is missing or stale."""
        after_key = 0
        while True:
            candidates = self.store.embeddings.embedding_candidates(
                self.model, after_key=after_key, modified_since=since, limit=CANDIDATE_PAGE
            )
            if not candidates:
                return
            after_key = candidates[-1][0]
            todo = []
            for key, title, abstract, old_hash in candidates:
                text = _paper_text(title, abstract)
                new_hash = text_hash(text)
                if new_hash != old_hash:
                    todo.append((key, text, new_hash))
            yield todo

    def _since(self) -> dt.datetime | None:
        value = self.store.get_state(self._watermark_key())
        return dt.datetime.fromisoformat(value) if value else None

    def index(self, on_progress: Callable[[int], None] | None = None) -> int:
        """Embed papers that are new or whose title/abstract changed, then update the ANN index.

        Returns how many papers were embedded (0 when nothing was new).
        """
        with self._indexing:
            started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            since = self._since()
            self.sync()
            embedded, saved_at = 0, time.monotonic()
            with self.store.embeddings.deferred_vector_indexes():
                for todo in self._stale_pages(since):
                    for start in range(0, len(todo), EMBED_BATCH):
                        batch = todo[start : start + EMBED_BATCH]
                        vectors = self.embedder.embed_documents([text for _, text, _ in batch])
                        rows = [(key, h, v) for (key, _, h), v in zip(batch, vectors, strict=True)]
                        self.store.embeddings.save_embeddings(self.model, rows)
                        embedded += len(batch)
                        if on_progress:
                            on_progress(len(batch))
                    if todo:
                        save = time.monotonic() - saved_at > SAVE_EVERY_SECONDS
                        self.sync(save=save)
                        saved_at = time.monotonic() if save else saved_at
            self.sync()
            self.store.set_state(self._watermark_key(), (started - WATERMARK_MARGIN).isoformat())
            log.info("embedded %d papers with %s", embedded, self.model)
            return embedded

    def index_in_background(self, every: float | None = None) -> threading.Thread:
        """Run index() in a daemon thread (or return the one already running); with `every`,
        again every that many seconds, so papers added later get embedded too."""
        if self._thread is not None and self._thread.is_alive():
            return self._thread

        def run() -> None:
            while True:
                try:
                    self.index()
                except Exception:
                    log.exception("background indexing failed")
                if every is None:
                    return
                time.sleep(every)

        self._thread = threading.Thread(target=run, name="paperfeed-index", daemon=True)
        self._thread.start()
        return self._thread

    @property
    def indexing(self) -> bool:
        return self._indexing.locked()

    # -- search ------------------------------------------------------------------------------

    def search(
        self,
        text: str | None,
        *,
        limit: int = 20,
        offset: int = 0,
        sort: str = "relevance",
        category: str | None = None,
        author: str | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        mode: str = "hybrid",
    ) -> SearchResults:
        """Papers for a query string (see search.query for the syntax) and form filters.

        `mode`: "hybrid" (default), or "keyword" / "dense" for one side only (benchmarks).
        """
        query = parse_query(
            text,
            category=category,
            author=author,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            limit=limit,
            offset=offset,
        )
        if query.empty_range:
            return SearchResults([], 0, query.message, query)
        by_id = self._by_arxiv_id(query)
        if by_id is not None:
            return by_id
        if not query.has_text:
            keys, total = self.store.papers.list_keys(query, query.limit, query.offset)
            hits = [SearchHit(p, 0.0) for p in self.store.papers.papers_by_keys(keys)]
            return SearchResults(hits, total, query.message, query)
        ranked = self._rank(query, mode)
        pinned = self._exact_title(query)
        if pinned is not None:
            top = ranked[0][1] + 1.0 if ranked else 1.0
            ranked = [(pinned, top, None, None)] + [r for r in ranked if r[0] != pinned]
        if query.sort != "relevance":
            order = self.store.papers.sort_keys([r[0] for r in ranked], query.sort)
            by_key = {r[0]: r for r in ranked}
            ranked = [by_key[k] for k in order]
        page = ranked[query.offset : query.offset + query.limit]
        found = self.store.papers.papers_by_key([r[0] for r in page])
        hits = [
            SearchHit(found[key], score, krank, drank)
            for key, score, krank, drank in page
            if key in found
        ]
        return SearchResults(hits, len(ranked), query.message, query)

    def _rank(
        self, query: Query, mode: str = "hybrid"
    ) -> list[tuple[int, float, int | None, int | None]]:
        """(key, score, keyword rank, dense rank) of the relevant papers, best first."""
        sorting = query.sort != "relevance"
        depth = max(KEYWORD_DEPTH, query.offset + query.limit)
        # One side after the other: tantivy already searches its shards side by side, and a
        # third busy thread on 2 cores made hybrid slower (1M papers: p95 27 -> 20 ms).
        keyword, dense = [], []
        if mode != "dense":
            keyword = self.store.papers.keyword_search(query, SORTED_DEPTH if sorting else depth)
        if mode != "keyword":
            dense = self._dense(query, SORTED_DENSE if sorting else max(DENSE_DEPTH, depth))
        if mode == "dense":
            return [(key, score, None, rank) for rank, (key, score) in enumerate(dense, 1)]
        if sorting and not keyword and mode == "hybrid":
            dense = self._dense(query, DENSE_DEPTH)
        if not dense:
            return [(key, score, rank, None) for rank, (key, score) in enumerate(keyword, 1)]
        fused = reciprocal_rank_fusion([k for k, _ in keyword], [k for k, _ in dense])
        return [(f.key, f.score, f.keyword_rank, f.dense_rank) for f in fused]

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
            hits = self._neighbours(vector, fetch)
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
            self._refresh()
            if self.vector_count() == 0:
                return None
            return self.embedder.embed_query(query.semantic_text)
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

    # -- vectors and neighbours --------------------------------------------------------------

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_query(text)

    def vectors_for(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The embedding of each known paper (stored, or computed now when missing or stale)."""
        keys = self.store.papers.paper_keys(list(paper_ids))
        if not keys:
            return {}
        stored = self.store.embeddings.get_embeddings(self.model, list(keys.values()))
        papers = {p.id: p for p in self.store.papers.get_papers(list(keys))}
        result: dict[str, np.ndarray] = {}
        missing: list[tuple[str, str]] = []
        for paper_id, key in keys.items():
            text = _paper_text(papers[paper_id].title, papers[paper_id].abstract)
            if key in stored and stored[key][1] == text_hash(text):
                result[paper_id] = stored[key][0]
            else:
                missing.append((paper_id, text))
        if missing:
            vectors = self.embedder.embed_documents([text for _, text in missing])
            result.update({pid: v for (pid, _), v in zip(missing, vectors, strict=True)})
        return result

    def nearest(
        self, vector: np.ndarray, k: int = 10, exclude_ids: Sequence[str] = ()
    ) -> list[tuple[Paper, float]]:
        """The `k` visible papers nearest to `vector` (cosine), skipping `exclude_ids`."""
        exclude = (
            set(self.store.papers.paper_keys(list(exclude_ids)).values()) if exclude_ids else set()
        )
        self._refresh()
        want = k + 10
        while True:
            hits = self._neighbours(vector, want, exclude)
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
