"""The papers area of the store: upserts, lookups, the moderation flag, keyword search and the
search filters, in SQLAlchemy Core.

Keyword search and the full-text filters are each backend's (``sqlite_papers.py`` with tantivy
and FTS5, ``postgres.py`` with tsvector); the rest is shared.

Hidden papers: the lookups by id or key (`get_paper`, `find_paper`, `get_papers`,
`papers_by_key(s)`, `paper_keys`, `key_by_title`) return hidden papers too, for moderators;
everything that selects papers for readers (`keyword_search`, `filter_keys`, `list_keys`,
`sort_keys`, `papers_published_between`) leaves them out in its own query.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.errors import NotFound
from paperfeed.merge import merge_papers, with_sources
from paperfeed.models import Paper
from paperfeed.query import Query
from paperfeed.store import rows
from paperfeed.store.chunks import chunks
from paperfeed.store.paper_rows import EncodedPaper, PaperRowCodec
from paperfeed.store.schema import papers

VISIBLE = papers.c.hidden == sa.false()  # the papers readers may see


@dataclass(slots=True)
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


class PaperStore:
    """Papers in one SQL database; backends add keyword search (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing -----------------------------------------------------------------------------

    def upsert_papers(
        self, incoming: Iterable[Paper], conn: Connection | None = None
    ) -> UpsertCounts:
        """Insert new papers and merge records into stored ones (newer versions win).

        Re-importing the same records changes nothing and counts them as unchanged.
        """
        if conn is None:
            with self.engine.begin() as conn:
                return self.upsert_papers(incoming, conn)
        batch: dict[str, Paper] = {}
        for paper in incoming:
            previous = batch.get(paper.id)
            batch[paper.id] = merge_papers(previous, paper) if previous else with_sources(paper)
        if not batch:
            return UpsertCounts()
        now = rows.utcnow()
        counts, new_papers, updates = self._merge_into_stored(conn, batch, now)
        if new_papers:
            self._bulk_insert(conn, papers, [rows.paper_values(p, now) for p in new_papers])
        self._update_papers(conn, updates)
        return counts

    def upsert_encoded(
        self, incoming: Sequence[EncodedPaper], codec: PaperRowCodec, conn: Connection
    ) -> UpsertCounts:
        """`upsert_papers` for papers `codec` encoded (in another process): the same rows and
        counts, but papers new to the store and to this batch go to the driver as they are;
        only the others are decoded and merged."""
        ids = [codec.paper_id(encoded) for encoded in incoming]
        to_merge = self._stored_ids(conn, ids) | {i for i, n in Counter(ids).items() if n > 1}
        batch: dict[str, EncodedPaper | Paper] = {}
        for paper_id, encoded in zip(ids, incoming, strict=True):
            if paper_id not in to_merge:
                batch[paper_id] = encoded
                continue
            paper, previous = codec.decode(encoded), batch.get(paper_id)
            batch[paper_id] = (
                merge_papers(previous, paper)
                if isinstance(previous, Paper)
                else with_sources(paper)
            )
        now = rows.utcnow()
        merged = {i: p for i, p in batch.items() if isinstance(p, Paper)}
        counts, new_papers, updates = self._merge_into_stored(conn, merged, now)
        new_ids = {p.id for p in new_papers}
        inserts = [
            codec.values(entry)
            if not isinstance(entry, Paper)
            else codec.values(codec.encode(entry, now))
            for paper_id, entry in batch.items()
            if paper_id not in merged or paper_id in new_ids
        ]
        if inserts:
            conn.exec_driver_sql(codec.insert_sql, inserts)
        self._update_papers(conn, updates)
        counts.new = len(inserts)
        return counts

    def _merge_into_stored(
        self, conn: Connection, batch: dict[str, Paper], now: dt.datetime
    ) -> tuple[UpsertCounts, list[Paper], list[dict[str, Any]]]:
        """Merge each paper of `batch` into the stored paper with its id: the counts of updated
        and unchanged papers, the papers not stored yet (in batch order, counted as new) and the
        update parameters of the changed ones."""
        counts = UpsertCounts()
        stored = {p.id: (key, p) for key, p in self._papers_with_keys(conn, list(batch))}
        new_papers, updates = [], []
        for paper_id, paper in batch.items():
            if paper_id not in stored:
                new_papers.append(paper)
                counts.new += 1
                continue
            key, old = stored[paper_id]
            new_values = rows.paper_values(merge_papers(old, paper), now)
            if _same_content(rows.paper_values(old, now), new_values):
                counts.unchanged += 1
            else:
                updates.append({**new_values, "_key": key})
                counts.updated += 1
        return counts, new_papers, updates

    def _update_papers(self, conn: Connection, updates: list[dict[str, Any]]) -> None:
        if updates:
            columns: dict[str, Any] = {c: sa.bindparam(c) for c in updates[0] if c != "_key"}
            stmt = papers.update().where(papers.c.key == sa.bindparam("_key")).values(columns)
            conn.execute(stmt, updates)

    def _stored_ids(self, conn: Connection, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in chunks(ids):
            found.update(
                conn.execute(sa.select(papers.c.id).where(papers.c.id.in_(chunk))).scalars()
            )
        return found

    def _bulk_insert(self, conn: Connection, table: sa.Table, values: list[dict[str, Any]]) -> None:
        """Insert many rows (backends may override with a faster driver-level path)."""
        conn.execute(table.insert(), values)

    def set_paper_hidden(self, paper_id: str, hidden: bool) -> None:
        """Hide a paper from readers (or show it again); NotFound for an unknown id."""
        with self.engine.begin() as conn:
            done = conn.execute(
                papers.update().where(papers.c.id == paper_id).values(hidden=hidden)
            )
        if done.rowcount == 0:
            raise NotFound(f"no paper {paper_id!r}")

    # -- lookups (hidden papers included) ----------------------------------------------------

    def _papers_with_keys(
        self, conn: Connection, ids: Sequence[str]
    ) -> Iterator[tuple[int, Paper]]:
        for chunk in chunks(ids):
            result = conn.execute(sa.select(papers).where(papers.c.id.in_(chunk))).mappings()
            for row in result:
                yield row["key"], rows.paper_from_row(row)

    def get_paper(self, paper_id: str) -> Paper:
        """The paper, hidden or not; NotFound for an unknown id."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(papers).where(papers.c.id == paper_id)).mappings().first()
        if row is None:
            raise NotFound(f"no paper {paper_id!r}")
        return rows.paper_from_row(row)

    def find_paper(self, paper_id: str) -> Paper | None:
        """The paper, hidden or not; None for an unknown id."""
        try:
            return self.get_paper(paper_id)
        except NotFound:
            return None

    def get_papers(self, paper_ids: Sequence[str]) -> list[Paper]:
        """Papers in the order of `paper_ids`, hidden ones included; unknown ids are left out."""
        with self.engine.connect() as conn:
            found = {p.id: p for _, p in self._papers_with_keys(conn, paper_ids)}
        return [found[i] for i in paper_ids if i in found]

    def papers_by_keys(self, keys: Sequence[int]) -> list[Paper]:
        """Papers in the order of their integer `keys`, hidden ones included; unknown keys are
        left out."""
        found = self.papers_by_key(keys)
        return [found[k] for k in keys if k in found]

    def papers_by_key(self, keys: Sequence[int]) -> dict[int, Paper]:
        """The paper of each known key, hidden ones included."""
        found: dict[int, Paper] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(keys):
                stmt = sa.select(papers).where(papers.c.key.in_(chunk))
                for row in conn.execute(stmt).mappings():
                    found[row["key"]] = rows.paper_from_row(row)
        return found

    def paper_keys(self, paper_ids: Sequence[str]) -> dict[str, int]:
        """id -> key of each known paper, hidden ones included."""
        found: dict[str, int] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(paper_ids):
                stmt = sa.select(papers.c.id, papers.c.key).where(papers.c.id.in_(chunk))
                found.update((row.id, row.key) for row in conn.execute(stmt))
        return found

    def key_by_title(self, title: str) -> int | None:
        """The key of the paper whose title equals `title` (case-insensitive), if exactly one
        paper's does (hidden papers count: check the key with `filter_keys`)."""
        with self.engine.connect() as conn:
            stmt = sa.select(papers.c.key).where(sa.func.lower(papers.c.title) == title.lower())
            found = conn.execute(stmt.limit(2)).scalars().all()
        return found[0] if len(found) == 1 else None

    def ids_by_doi(self, dois: Sequence[str]) -> dict[str, str]:
        """lower-cased DOI -> id of the papers with one of `dois` (case-insensitive; hidden
        papers included), by the DOI index."""
        return self._ids_by_lowered(papers.c.doi, dois)

    def ids_by_title(self, titles: Sequence[str]) -> dict[str, str]:
        """lower-cased title -> id of the first stored paper with that title (case-insensitive;
        hidden papers included), by the title index."""
        return self._ids_by_lowered(papers.c.title, titles)

    def _ids_by_lowered(self, column: sa.Column[str], values: Sequence[str]) -> dict[str, str]:
        """lower-cased value -> id of the first paper (by key) whose lower-cased `column` is
        one of `values` lower-cased."""
        wanted = sorted({v.lower() for v in values})
        found: dict[str, str] = {}
        lowered_column = sa.func.lower(column)
        with self.engine.connect() as conn:
            for chunk in chunks(wanted):
                stmt = (
                    sa.select(lowered_column, papers.c.id)
                    .where(lowered_column.in_(chunk))
                    .order_by(papers.c.key)
                )
                for lowered, paper_id in conn.execute(stmt):
                    found.setdefault(lowered, paper_id)
        return found

    # -- key phrases (computed in the background: search.keywords) ---------------------------

    def papers_without_keywords(self, limit: int) -> list[tuple[int, str, str]]:
        """(key, title, abstract) of up to `limit` papers whose keywords are not computed yet."""
        stmt = (
            sa.select(papers.c.key, papers.c.title, papers.c.abstract)
            .where(papers.c.keywords.is_(None))
            .order_by(papers.c.key)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.key, row.title, row.abstract) for row in conn.execute(stmt)]

    def save_keywords(self, keywords: dict[int, list[str]]) -> None:
        """Store each keyed paper's computed keywords (an empty list: none found)."""
        if not keywords:
            return
        stmt = (
            papers.update()
            .where(papers.c.key == sa.bindparam("_key"))
            .values(keywords=sa.bindparam("_keywords", type_=papers.c.keywords.type))
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, [{"_key": k, "_keywords": v} for k, v in keywords.items()])

    def count_papers(self) -> int:
        """All papers, hidden ones included."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(papers)).scalar_one())

    # -- keyword search and filters (backends implement them; never hidden papers) -----------

    def pending_keyword_rows(self) -> int:
        """Papers stored but not yet in the keyword index (0 where the backend indexes on write)."""
        return 0

    def catch_up_keyword_index(
        self,
        *,
        batch_size: int = 5000,
        on_progress: Callable[[int], None] | None = None,
        rebuild: bool = False,
    ) -> int:
        """Bring the keyword index up to date with the papers table (`rebuild`: index every paper
        again where the index is a separate file); returns papers added."""
        return 0

    def keyword_search(self, query: Query, limit: int = 200) -> list[tuple[int, float]]:
        """Keys of papers matching the query's words, best first, with their scores. Hidden
        papers are never among them."""
        raise NotImplementedError

    def keyword_count(self, query: Query, cap: int, among: Sequence[int] | None = None) -> int:
        """How many papers `keyword_search` could return for the query with no limit (only
        those keyed in `among` if given), counted up to `cap`. Hidden papers never count."""
        raise NotImplementedError

    def text_filter_conditions(self, query: Query) -> list[sa.ColumnElement[bool]]:
        """WHERE conditions on `papers` for the query's filters, required phrases and exclusions;
        hidden papers never pass. Backends implement them with their full-text search."""
        raise NotImplementedError

    def filter_keys(self, keys: Sequence[int], query: Query) -> set[int]:
        """The `keys` passing the query's filters, required phrases and exclusions. Hidden
        papers never pass."""
        return self._keys_where(keys, self.text_filter_conditions(query))

    def _keys_where(
        self, keys: Sequence[int], conditions: Sequence[sa.ColumnElement[bool]]
    ) -> set[int]:
        kept: set[int] = set()
        with self.engine.connect() as conn:
            for chunk in chunks(keys):
                stmt = sa.select(papers.c.key).where(papers.c.key.in_(chunk), *conditions)
                kept.update(conn.execute(stmt).scalars())
        return kept

    def list_keys(self, query: Query, limit: int, offset: int = 0) -> tuple[list[int], int]:
        """Papers passing the query's filters (no words), newest or most upvoted first, and
        how many pass in all. Hidden papers are neither listed nor counted."""
        conditions = self.text_filter_conditions(query)  # hidden papers never pass
        order = (
            [papers.c.upvotes.desc(), papers.c.published.desc().nulls_last()]
            if query.sort == "upvotes"
            else [papers.c.published.desc().nulls_last()]
        )
        stmt = sa.select(papers.c.key).where(*conditions).order_by(*order, papers.c.key.desc())
        count = sa.select(sa.func.count()).select_from(papers).where(*conditions)
        with self.engine.connect() as conn:
            keys = list(conn.execute(stmt.limit(limit).offset(offset)).scalars())
            return keys, int(conn.execute(count).scalar_one())

    def sort_keys(self, keys: Sequence[int], sort: str) -> list[int]:
        """`keys` ordered by "date" (newest first) or "upvotes" (most first); ties keep order.
        Unknown and hidden papers are left out."""
        column = papers.c.upvotes if sort == "upvotes" else papers.c.published
        values: dict[int, Any] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(keys):
                stmt = sa.select(papers.c.key, column).where(papers.c.key.in_(chunk), VISIBLE)
                values.update({row[0]: row[1] for row in conn.execute(stmt)})
        present = [k for k in keys if k in values]
        dated = [k for k in present if values[k] is not None]
        undated = [k for k in present if values[k] is None]
        return sorted(dated, key=lambda k: values[k], reverse=True) + undated

    def papers_published_between(
        self, start: dt.date, end: dt.date, limit: int = 5000
    ) -> list[Paper]:
        """Papers first published from `start` to `end` (inclusive), newest first. Hidden papers
        are left out."""
        stmt = (
            sa.select(papers)
            .where(
                papers.c.published >= dt.datetime.combine(start, dt.time()),
                papers.c.published < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
                VISIBLE,
            )
            .order_by(papers.c.published.desc(), papers.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [rows.paper_from_row(row) for row in conn.execute(stmt).mappings()]

    def keyed_papers_published_between(
        self, start: dt.date, end: dt.date, limit: int = 5000
    ) -> list[tuple[int, Paper]]:
        """(key, paper) of the visible papers first published from `start` to `end`
        (inclusive), newest first."""
        stmt = (
            sa.select(papers)
            .where(*_published_between(start, end), VISIBLE)
            .order_by(papers.c.published.desc(), papers.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row["key"], rows.paper_from_row(row)) for row in conn.execute(stmt).mappings()]

    def published_between_marker(self, start: dt.date, end: dt.date) -> tuple[int, Any]:
        """(how many papers, their latest modification) first published from `start` to `end`:
        changes whenever one of them is added or changed, hidden ones included."""
        stmt = sa.select(sa.func.count(), sa.func.max(papers.c.modified_at)).where(
            *_published_between(start, end)
        )
        with self.engine.connect() as conn:
            count, latest = conn.execute(stmt).one()
        return int(count), latest

    def latest_published_day(self, on_or_before: dt.date) -> dt.date | None:
        """The last day up to `on_or_before` on which a visible paper was first published."""
        end = dt.datetime.combine(on_or_before + dt.timedelta(days=1), dt.time())
        stmt = (
            sa.select(papers.c.published)
            .where(papers.c.published < end, VISIBLE)
            .order_by(papers.c.published.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            published: dt.datetime | None = conn.execute(stmt).scalar()
        return published.date() if published is not None else None


def _published_between(start: dt.date, end: dt.date) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        papers.c.published >= dt.datetime.combine(start, dt.time()),
        papers.c.published < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
    )


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return all(old[k] == new[k] for k in new if k not in ("modified_at", "field_sources", "source"))
