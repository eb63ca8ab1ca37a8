"""Keeping the vector index: embedding new and changed papers, and the ANN index file.

Embeddings live in the store's ``embeddings`` table (the truth); the ANN index file in the data dir
is a cache of it, kept in step by ``seq``: the index remembers the highest seq it holds and
``sync()`` catches up, or rebuilds when the file is missing, unreadable or inconsistent.
With pgvector the database searches the vectors itself and there is no file.
Answering queries with these vectors is search.engine's job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from paperfeed.config import Settings
from paperfeed.search.embed import Embedder, document_text, load_embedder
from paperfeed.search.keywords import KeywordTagger
from paperfeed.search.vectors import VectorIndex, sidecar_path
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

EMBED_BATCH = 64
CANDIDATE_PAGE = 2000
CATCH_UP_BATCH = 5000  # vectors added to the ANN index at a time
REFRESH_SECONDS = 5.0  # how often searches look for embeddings another process added
# While indexing, new vectors are committed (with the ANN index caught up) every COMMIT_SECONDS
# or COMMIT_ROWS, whichever comes first: each commit moves the content version, so a web
# server's cached pages re-render once per commit, not once per batch (a day's sync embeds for
# 30-90 s); a kill loses at most that much work. The ANN file is written at most every
# SAVE_EVERY_SECONDS and at the end.
COMMIT_SECONDS = 60.0
COMMIT_ROWS = 20_000
SAVE_EVERY_SECONDS = 60.0
# A web server that sees embeddings another process added loads the ANN file that process
# saves (it did the work) instead of adding them itself (~1.5 ms a vector on this machine: a
# day's 1,500 held a search for seconds); it adds them itself only when no newer file has come
# for this long (the indexer died, or only commits and never writes the file).
CATCH_UP_GRACE = 2 * SAVE_EVERY_SECONDS
WATERMARK_MARGIN = dt.timedelta(minutes=10)  # re-check papers modified this long before a run


def text_hash(text: str) -> str:
    """32 hex digits identifying the embedded text (a change means re-embedding)."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def paper_text(title: str, abstract: str | None) -> str:
    """The text embedded for a paper."""
    return document_text(title, abstract)


class SearchIndexer:
    """The embeddings of one store's papers and the ANN index over them."""

    def __init__(
        self, store: SqlStore, settings: Settings, *, embedder: Embedder | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self._embedder = embedder
        self._index: VectorIndex | None = None
        self._dirty = False  # the in-memory index holds more than its file
        self._lock = threading.RLock()  # guards the in-memory ANN index
        self._indexing = threading.Lock()  # one index() run at a time
        self._thread: threading.Thread | None = None
        self._checked_at = 0.0
        self._seen_seq: int | None = None  # the highest embedding seq at the last sync
        self._behind_since: float | None = None  # refresh() saw newer embeddings than it holds
        self._stored_vectors: int | None = None  # when the store searches vectors itself
        # called after each batch embedded with the CPU seconds it took (a background sync rests)
        self.after_batch: Callable[[float], None] | None = None

    # -- embedder and ANN index --------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedding model (loaded on first use)."""
        if self._embedder is None:
            self._embedder = load_embedder(
                self.settings.embedder,
                device=self.settings.device,
                precision=self.settings.embed_precision,
            )
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
            self._behind_since = None
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
        added = 0
        keys: list[int] = []
        vectors: list[np.ndarray] = []
        for key, vector, seq in self.store.embeddings.embeddings_since(self.model, marker):
            keys.append(key)
            vectors.append(vector)
            marker = seq
            if len(keys) >= CATCH_UP_BATCH:
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

    def neighbours(
        self, vector: np.ndarray, k: int, exclude: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """(key, cosine) of the `k` nearest vectors, from the store if it can, else the index."""
        found = self.store.embeddings.nearest_keys(self.model, vector, k, exclude or ())
        if found is not None:
            return found
        with self._lock:
            return self.vector_index.search(vector, k, exclude=exclude)

    def refresh(self) -> None:
        """Pick up embeddings written by another process: at most every few seconds, one index
        lookup; when there are new ones, the ANN file that process saved is loaded, and the
        vectors are added here only when no newer file came for CATCH_UP_GRACE seconds."""
        now = time.monotonic()
        if now - self._checked_at < REFRESH_SECONDS or self._indexing.locked():
            return
        self._checked_at = now
        latest = self.store.embeddings.latest_embedding_seq(self.model)
        if latest == self._seen_seq:
            return
        if self.store.vectors_in_store:  # a count, no vectors to add (counting 1M rows: ~1 s)
            self.sync(save=False)
            return
        held = self._load_newer_file()
        if held is not None and latest is not None and held >= latest:
            self._seen_seq, self._behind_since = latest, None
            return
        if self._behind_since is None:
            self._behind_since = now
        if now - self._behind_since >= CATCH_UP_GRACE:
            self.sync(save=False)

    def _load_newer_file(self) -> int | None:
        """Swap in the ANN file when another process saved it further than the index held here
        (loaded outside the lock: searches go on meanwhile); the marker it holds, else None."""
        try:
            saved = json.loads(sidecar_path(self.index_path).read_text()).get("synced_through")
        except (OSError, ValueError, AttributeError):
            return None
        held = self._index.synced_through if self._index is not None else None
        if not isinstance(saved, int) or (isinstance(held, int) and saved <= held):
            return None
        loaded = self._open_index()
        if not isinstance(loaded.synced_through, int):
            return None
        with self._lock:
            self._index, self._dirty = loaded, False
        return loaded.synced_through

    # -- embedding papers --------------------------------------------------------------------

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
                text = paper_text(title, abstract)
                new_hash = text_hash(text)
                if new_hash != old_hash:
                    todo.append((key, text, new_hash))
            yield todo

    def _since(self) -> dt.datetime | None:
        value = self.store.get_state(self._watermark_key())
        return dt.datetime.fromisoformat(value) if value else None

    def index(self, on_progress: Callable[[int], None] | None = None) -> int:
        """Embed papers that are new or whose title/abstract changed, then update the ANN index;
        first compute the keywords of papers that have none (search.keywords, much faster).

        Returns how many papers were embedded (0 when nothing was new).
        """
        with self._indexing:
            KeywordTagger(self.store).tag()
            started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            since = self._since()
            self.sync()
            commits = _Commits(self._commit)
            with self.store.embeddings.deferred_vector_indexes():
                for todo in self._stale_pages(since):
                    for start in range(0, len(todo), EMBED_BATCH):
                        batch = todo[start : start + EMBED_BATCH]
                        batch_started = time.process_time()
                        vectors = self.embedder.embed_documents([text for _, text, _ in batch])
                        rows = [(key, h, v) for (key, _, h), v in zip(batch, vectors, strict=True)]
                        commits.add(rows)
                        if on_progress:
                            on_progress(len(batch))
                        if self.after_batch:
                            self.after_batch(time.process_time() - batch_started)
                embedded = commits.finish()
            self.sync()
            self.store.set_state(self._watermark_key(), (started - WATERMARK_MARGIN).isoformat())
            log.info("embedded %d papers with %s", embedded, self.model)
            return embedded

    def _commit(self, rows: list[tuple[int, str, np.ndarray]], save: bool) -> None:
        """Store embedded papers (one transaction) and add them to the ANN index."""
        self.store.embeddings.save_embeddings(self.model, rows)
        self.sync(save=save)

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


class _Commits:
    """Embedded rows gathered and handed to `commit` (rows, whether to write the ANN file) every
    COMMIT_SECONDS or COMMIT_ROWS, the file every SAVE_EVERY_SECONDS."""

    def __init__(self, commit: Callable[[list[tuple[int, str, np.ndarray]], bool], None]) -> None:
        self._commit = commit
        self._rows: list[tuple[int, str, np.ndarray]] = []
        self._committed_at = self._saved_at = time.monotonic()
        self.done = 0

    def add(self, rows: list[tuple[int, str, np.ndarray]]) -> None:
        self._rows.extend(rows)
        now = time.monotonic()
        if now - self._committed_at >= COMMIT_SECONDS or len(self._rows) >= COMMIT_ROWS:
            save = now - self._saved_at >= SAVE_EVERY_SECONDS
            self._flush(save)
            self._saved_at = now if save else self._saved_at

    def finish(self) -> int:
        """Commit what is left (the caller writes the file); how many rows were committed."""
        self._flush(save=False)
        return self.done

    def _flush(self, save: bool) -> None:
        if self._rows:
            self._commit(self._rows, save)
            self.done += len(self._rows)
        self._rows, self._committed_at = [], time.monotonic()
