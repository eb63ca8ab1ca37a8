"""The collections area of the store: readers' named reading lists and the papers in them.
Who may see a collection is the domain's rule (community/collections.py); hidden papers are
left out of what is listed here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from paperfeed.errors import Conflict, NotFound
from paperfeed.models import Collection, Paper
from paperfeed.store import rows
from paperfeed.store.chunks import chunks
from paperfeed.store.reader_tables import collection_items, collections
from paperfeed.store.schema import papers

_SIZE = (
    sa.select(sa.func.count())
    .select_from(collection_items)
    .where(collection_items.c.collection_id == collections.c.id)
    .scalar_subquery()
    .label("size")
)


def _collection(row: Any) -> Collection:
    return Collection(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        slug=row["slug"],
        public=bool(row["public"]),
        description=row["description"] or "",
        size=row["size"],
        created_at=rows.from_naive_utc(row["created_at"]),
        updated_at=rows.from_naive_utc(row["updated_at"]),
    )


class CollectionStore:
    """Collections and their papers in one SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self, user_id: int, name: str, slug: str, *, public: bool = False, description: str = ""
    ) -> Collection:
        """A new empty collection; Conflict when the owner has one of that name or the slug is
        taken."""
        now = rows.utcnow()
        values = {
            "user_id": user_id,
            "name": name,
            "slug": slug,
            "public": public,
            "description": description,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as conn:
                inserted = conn.execute(collections.insert().values(**values)).inserted_primary_key
        except sa.exc.IntegrityError as error:
            raise Conflict(f"you have a collection named {name!r} already") from error
        assert inserted is not None
        return self.get(int(inserted[0]))

    def slug_taken(self, slug: str) -> bool:
        with self.engine.connect() as conn:
            stmt = sa.select(collections.c.id).where(collections.c.slug == slug)
            return conn.execute(stmt).first() is not None

    def _one(self, where: sa.ColumnElement[bool]) -> Collection | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(collections, _SIZE).where(where)).mappings().first()
        return _collection(row) if row else None

    def get(self, collection_id: int) -> Collection:
        found = self._one(collections.c.id == collection_id)
        if found is None:
            raise NotFound(f"no collection {collection_id}")
        return found

    def find(self, id_or_slug: str) -> Collection | None:
        """The collection of a URL: its number or its slug."""
        if id_or_slug.isdigit() and len(id_or_slug) < 10:
            return self._one(collections.c.id == int(id_or_slug))
        return self._one(collections.c.slug == id_or_slug)

    def find_by_name(self, user_id: int, name: str) -> Collection | None:
        return self._one(sa.and_(collections.c.user_id == user_id, collections.c.name == name))

    def of_user(self, user_id: int) -> list[Collection]:
        stmt = (
            sa.select(collections, _SIZE)
            .where(collections.c.user_id == user_id)
            .order_by(collections.c.name, collections.c.id)
        )
        with self.engine.connect() as conn:
            return [_collection(row) for row in conn.execute(stmt).mappings()]

    def update(
        self,
        collection_id: int,
        *,
        name: str | None = None,
        public: bool | None = None,
        description: str | None = None,
    ) -> Collection:
        values: dict[str, Any] = {"updated_at": rows.utcnow()}
        if name is not None:
            values["name"] = name
        if public is not None:
            values["public"] = public
        if description is not None:
            values["description"] = description
        try:
            with self.engine.begin() as conn:
                stmt = collections.update().where(collections.c.id == collection_id)
                if conn.execute(stmt.values(**values)).rowcount == 0:
                    raise NotFound(f"no collection {collection_id}")
        except sa.exc.IntegrityError as error:
            raise Conflict(f"you have a collection named {name!r} already") from error
        return self.get(collection_id)

    def delete(self, collection_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                collection_items.delete().where(collection_items.c.collection_id == collection_id)
            )
            conn.execute(collections.delete().where(collections.c.id == collection_id))

    def add_papers(self, collection_id: int, paper_ids: Sequence[str]) -> int:
        """Put stored papers in the collection; returns how many were not in it yet (unknown
        ids are left out)."""
        wanted = list(dict.fromkeys(paper_ids))
        added = 0
        with self.engine.begin() as conn:
            for chunk in chunks(wanted):
                known = set(
                    conn.execute(sa.select(papers.c.id).where(papers.c.id.in_(chunk))).scalars()
                )
                there = set(
                    conn.execute(
                        sa.select(collection_items.c.paper_id).where(
                            collection_items.c.collection_id == collection_id,
                            collection_items.c.paper_id.in_(chunk),
                        )
                    ).scalars()
                )
                fresh = [
                    {"collection_id": collection_id, "paper_id": pid, "added_at": rows.utcnow()}
                    for pid in chunk
                    if pid in known and pid not in there
                ]
                if fresh:
                    conn.execute(collection_items.insert(), fresh)
                    added += len(fresh)
            if added:
                conn.execute(
                    collections.update()
                    .where(collections.c.id == collection_id)
                    .values(updated_at=rows.utcnow())
                )
        return added

    def remove_paper(self, collection_id: int, paper_id: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                collection_items.delete().where(
                    collection_items.c.collection_id == collection_id,
                    collection_items.c.paper_id == paper_id,
                )
            )
        return done.rowcount > 0

    def papers(
        self, collection_id: int, *, limit: int | None = None
    ) -> list[tuple[Paper, dt.datetime]]:
        """The visible papers of the collection with when each was added, latest first."""
        stmt = _visible_items(
            sa.select(papers, collection_items.c.added_at.label("added_at")), collection_id, limit
        )
        with self.engine.connect() as conn:
            result = conn.execute(stmt).mappings().all()
        return [(rows.paper_from_row(row), _aware(row["added_at"])) for row in result]

    def paper_ids(self, collection_id: int, *, limit: int | None = None) -> list[str]:
        """The ids of the collection's visible papers, latest added first (what `papers`
        gives, without reading the papers)."""
        stmt = _visible_items(sa.select(collection_items.c.paper_id), collection_id, limit)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def holding(self, user_id: int, paper_id: str) -> set[int]:
        """Which of the user's collections hold the paper."""
        stmt = (
            sa.select(collection_items.c.collection_id)
            .join(collections, collections.c.id == collection_items.c.collection_id)
            .where(collections.c.user_id == user_id, collection_items.c.paper_id == paper_id)
        )
        with self.engine.connect() as conn:
            return set(conn.execute(stmt).scalars())

    def paper_ids_of_user(self, user_id: int) -> list[str]:
        """Every paper in any of the user's collections, latest added first."""
        stmt = (
            sa.select(collection_items.c.paper_id, sa.func.max(collection_items.c.added_at))
            .join(collections, collections.c.id == collection_items.c.collection_id)
            .where(collections.c.user_id == user_id)
            .group_by(collection_items.c.paper_id)
            .order_by(sa.func.max(collection_items.c.added_at).desc())
        )
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(stmt)]


def _aware(value: dt.datetime | str) -> dt.datetime:
    converted = rows.from_naive_utc(value)
    assert converted is not None
    return converted


def _visible_items(stmt: sa.Select[Any], collection_id: int, limit: int | None) -> sa.Select[Any]:
    """`stmt` over the collection's items whose papers are visible, latest added first."""
    stmt = (
        stmt.select_from(collection_items.join(papers, collection_items.c.paper_id == papers.c.id))
        .where(collection_items.c.collection_id == collection_id, ~papers.c.hidden)
        .order_by(collection_items.c.added_at.desc(), papers.c.id)
    )
    return stmt if limit is None else stmt.limit(limit)
