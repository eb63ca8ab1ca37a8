"""Keyword search and the text filters of candidates answered by a tantivy index, on either
backend (sqlite_papers.py, postgres.py): ranking, counting and filtering by tantivy, hidden
papers dropped here, and the check that an author name's words belong to one author done in SQL
by the backend (tantivy only knows that each word is among the authors).

Hidden (moderated) papers are few: instead of looking every candidate up, searches read the keys
of hidden papers from a partial index (``ix_papers_hidden``) and drop them. One search asks
several times (its keyword candidates, then each widening of its nearest neighbours, then an
exact title), always with the same Query: the keys are read once per Query (HiddenKeys).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import sqlalchemy as sa

from paperfeed.query import Query
from paperfeed.store.papers import PaperStore
from paperfeed.store.schema import papers
from paperfeed.store.tantivy_keyword import TantivyKeywordIndex

MAX_FETCH = 20_000  # most ranked candidates fetched to fill a page when filters drop many
HIDDEN_REUSE_SECONDS = 1.0  # the hidden keys read for a Query serve it this long at most
HIDDEN_RECENT = 32  # queries whose hidden keys are kept (the searches running at once)


class HiddenKeys:
    """The keys of hidden papers, read at most once per Query object (and again after
    HIDDEN_REUSE_SECONDS, or at once after this process hides or shows a paper)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._recent: list[tuple[Query, float, frozenset[int]]] = []
        self._lock = threading.Lock()

    def __call__(self, query: Query) -> frozenset[int]:
        now = time.monotonic()
        with self._lock:
            for seen, at, keys in self._recent:
                if seen is query and now - at < HIDDEN_REUSE_SECONDS:
                    return keys
        keys = self.read()
        with self._lock:
            fresh = [e for e in self._recent if now - e[1] < HIDDEN_REUSE_SECONDS]
            self._recent = [*fresh[-(HIDDEN_RECENT - 1) :], (query, now, keys)]
        return keys

    def read(self) -> frozenset[int]:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(papers.c.key).where(papers.c.hidden == sa.true()))
            return frozenset(found.scalars())

    def forget(self) -> None:
        with self._lock:
            self._recent.clear()


class TantivyPaperStore(PaperStore):
    """Papers whose keyword search and candidate filters are the tantivy index `ranking`'s;
    backends say which author names tantivy cannot check alone and how SQL checks them."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(engine)
        self.hidden_keys = HiddenKeys(engine)

    @property
    def ranking(self) -> TantivyKeywordIndex:
        """The tantivy index of these papers."""
        raise NotImplementedError

    def set_paper_hidden(self, paper_id: str, hidden: bool) -> None:
        try:
            super().set_paper_hidden(paper_id, hidden)
        finally:
            self.hidden_keys.forget()

    def several_word_names(self, query: Query) -> list[str]:
        """The query's author names whose words tantivy cannot tie to one author."""
        raise NotImplementedError

    def name_conditions(self, names: Sequence[str]) -> list[sa.ColumnElement[bool]]:
        """WHERE conditions on a few given `papers` rows: each of the author `names` matches."""
        raise NotImplementedError

    def keyword_search(self, query: Query, limit: int = 200) -> list[tuple[int, float]]:
        """Ranked by tantivy, without hidden papers and, for author names of several words,
        checked here that the words belong to one author (tantivy checks each word), fetching
        deeper while those checks drop candidates."""
        hidden = self.hidden_keys(query)
        fetch = limit + 20
        while True:
            ranked = self.ranking.search(query, fetch)
            kept = self._with_names([key for key, _ in ranked if key not in hidden], query)
            hits = [(key, score) for key, score in ranked if key in kept]
            if len(hits) >= limit or len(ranked) < fetch or fetch >= MAX_FETCH:
                return hits[:limit]
            fetch *= 4

    def keyword_count(self, query: Query, cap: int, among: Sequence[int] | None = None) -> int:
        """Counted by tantivy, less the hidden papers that match; author names of several words
        are checked here, so those queries count what a search up to `cap` finds."""
        hidden = self.hidden_keys(query)
        if self.several_word_names(query):
            found = [key for key, _ in self.keyword_search(query, cap)]
            return len(found if among is None else set(found) & set(among))
        return min(self.ranking.count(query, among=among, leave_out=hidden), cap)

    def filter_keys(self, keys: Sequence[int], query: Query) -> set[int]:
        """Not hidden, then checked by tantivy (phrases, exclusions, authors, categories, dates)
        and here for author names of several words. Papers added in the last second may not be
        in tantivy yet."""
        if query.empty_range or not keys:
            return set()
        hidden = self.hidden_keys(query)
        visible = [key for key in keys if key not in hidden]
        return self.ranking.filter(list(self._with_names(visible, query)), query)

    def _with_names(self, keys: Sequence[int], query: Query) -> set[int]:
        """`keys` whose authors match the query's names of several words."""
        names = self.several_word_names(query)
        if not names or not keys:
            return set(keys)
        return self._keys_where(keys, self.name_conditions(names))
