"""The papers area on SQLite: bulk inserts straight on the driver, keyword ranking and the text
filters of candidates by tantivy (tantivy_keyword.py), FTS5 for listings without words and for
author names of several words (sqlite_keyword.py).

Hidden (moderated) papers are few: instead of looking every candidate up, searches read the keys
of hidden papers from a partial index (``ix_papers_hidden``, migration 6) and drop them. One
search asks several times (its keyword candidates, then each widening of its nearest neighbours,
then an exact title), always with the same Query: the keys are read once per Query (HiddenKeys).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from paperfeed.query import Query
from paperfeed.store import sqlite_keyword
from paperfeed.store.papers import PaperStore
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
            found = conn.exec_driver_sql("SELECT key FROM papers WHERE hidden = 1").scalars()
            return frozenset(found)

    def forget(self) -> None:
        with self._lock:
            self._recent.clear()


class SqlitePaperStore(PaperStore):
    def __init__(self, engine: sa.Engine, ranking: TantivyKeywordIndex) -> None:
        super().__init__(engine)
        self.ranking = ranking
        self.hidden_keys = HiddenKeys(engine)

    def _bulk_insert(
        self, conn: sa.Connection, table: sa.Table, values: list[dict[str, Any]]
    ) -> None:
        """executemany straight on the driver: SQLAlchemy's per-row overhead dominated imports.

        Column types still convert values exactly as SQLAlchemy would (its bind processors).
        """
        columns = list(values[0])
        compiled = (
            table.insert()
            .values({c: sa.bindparam(c) for c in columns})
            .compile(dialect=conn.dialect)
        )
        processors = [
            (c, p)
            for c in columns
            if (p := table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect))
        ]
        for row in values:
            for column, process in processors:
                row[column] = process(row[column])
        order = compiled.positiontup or []  # SQLite's qmark style is positional
        conn.exec_driver_sql(str(compiled), [tuple(row[c] for c in order) for row in values])

    def set_paper_hidden(self, paper_id: str, hidden: bool) -> None:
        try:
            super().set_paper_hidden(paper_id, hidden)
        finally:
            self.hidden_keys.forget()

    # -- keeping the keyword indexes in step -------------------------------------------------

    def pending_keyword_rows(self) -> int:
        with self.engine.connect() as conn:
            in_fts = conn.exec_driver_sql(
                "SELECT count(*) FROM papers WHERE key > (SELECT indexed_through FROM fts_progress)"
            ).scalar_one()
        return int(in_fts) + self.ranking.pending()

    def catch_up_keyword_index(
        self,
        *,
        batch_size: int = 5000,
        on_progress: Callable[[int], None] | None = None,
        rebuild: bool = False,
    ) -> int:
        """Add papers not yet in the FTS index (a batch per transaction), then bring the ranking
        index up to date (`rebuild`: from scratch); returns papers indexed (both counted)."""
        done = self._catch_up_fts(batch_size, on_progress)
        return done + self.ranking.sync(on_progress, rebuild=rebuild)

    def _catch_up_fts(self, batch_size: int, on_progress: Callable[[int], None] | None) -> int:
        done = 0
        while True:
            with self.engine.begin() as conn:
                through = conn.exec_driver_sql(
                    "SELECT indexed_through FROM fts_progress"
                ).scalar_one()
                last = conn.exec_driver_sql(
                    "SELECT max(key) FROM "
                    "(SELECT key FROM papers WHERE key > ? ORDER BY key LIMIT ?)",
                    (through, batch_size),
                ).scalar()
                if last is None:
                    return done
                added = conn.exec_driver_sql(
                    "INSERT INTO papers_fts(rowid, title, abstract, authors) "
                    "SELECT key, title, abstract, authors FROM papers WHERE key > ? AND key <= ?",
                    (through, last),
                ).rowcount
                conn.exec_driver_sql("UPDATE fts_progress SET indexed_through = ?", (last,))
            done += added
            if on_progress:
                on_progress(added)

    # -- searching ---------------------------------------------------------------------------

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
        if any(len(sqlite_keyword.name_tokens(a)) > 1 for a in query.authors):
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
        """`keys` whose authors match the query's names of several words (FTS5 checks that the
        words are near each other in the authors column)."""
        names = [a for a in query.authors if len(sqlite_keyword.name_tokens(a)) > 1]
        if not names or not keys:
            return set(keys)
        return self._keys_where(keys, sqlite_keyword.author_conditions(names, per_row=True))

    def text_filter_conditions(self, query: Query) -> list[sa.ColumnElement[bool]]:
        return sqlite_keyword.filter_conditions(query)
