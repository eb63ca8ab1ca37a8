"""The papers area on SQLite: bulk inserts straight on the driver, keyword ranking and the text
filters of candidates by tantivy (tantivy_keyword.py, tantivy_papers.py), FTS5 for listings
without words and for author names of several words (sqlite_keyword.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from paperfeed.query import Query
from paperfeed.store import sqlite_keyword
from paperfeed.store.tantivy_keyword import TantivyKeywordIndex
from paperfeed.store.tantivy_papers import TantivyPaperStore


class SqlitePaperStore(TantivyPaperStore):
    def __init__(self, engine: sa.Engine, ranking: TantivyKeywordIndex) -> None:
        super().__init__(engine)
        self._ranking = ranking

    @property
    def ranking(self) -> TantivyKeywordIndex:
        """The tantivy index beside the database file."""
        return self._ranking

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

    # -- searching (tantivy_papers.py) -------------------------------------------------------

    def several_word_names(self, query: Query) -> list[str]:
        return [a for a in query.authors if len(sqlite_keyword.name_tokens(a)) > 1]

    def name_conditions(self, names: Sequence[str]) -> list[sa.ColumnElement[bool]]:
        """FTS5 checks that each name's words are near each other in the authors column."""
        return sqlite_keyword.author_conditions(names, per_row=True)

    def text_filter_conditions(self, query: Query) -> list[sa.ColumnElement[bool]]:
        return sqlite_keyword.filter_conditions(query)
