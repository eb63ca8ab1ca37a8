"""Collections: a reader's named reading lists.

A collection is its owner's alone unless the owner makes it public: then anyone may read its
page, its Atom feed and its exports at ``/collections/<slug>`` (or its number). To anyone else a
private collection does not exist (NotFound, the same answer as for an unknown one), so its
existence is not revealed either. Only the owner changes a collection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from slugify import slugify

from paperfeed.community import citations
from paperfeed.community.moderation import paper_for_reader
from paperfeed.errors import Invalid, NotFound
from paperfeed.models import Collection, Paper, User
from paperfeed.store import SqlStore

MAX_NAME = 100
MAX_DESCRIPTION = 2000
MAX_COLLECTIONS = 200  # per reader
IMPORTED = "Imported library"  # where a library import puts the papers it matched
EXPORT_LIMIT = 10_000  # papers in one export


def clean_name(name: str) -> str:
    """The name as kept: spaces collapsed; Invalid when empty, too long or not printable."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise Invalid("give the collection a name")
    if len(cleaned) > MAX_NAME:
        raise Invalid(f"a collection's name has at most {MAX_NAME} characters")
    if not cleaned.isprintable():
        raise Invalid("a collection's name cannot hold control characters")
    return cleaned


def clean_description(text: str) -> str:
    cleaned = (text or "").strip()
    if len(cleaned) > MAX_DESCRIPTION:
        raise Invalid(f"a description has at most {MAX_DESCRIPTION} characters")
    return cleaned


class Collections:
    """The collection rules over one store."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def of_user(self, user: User) -> list[Collection]:
        return self.store.collections.of_user(user.id)

    def create(
        self, user: User, name: str, *, public: bool = False, description: str = ""
    ) -> Collection:
        """A new collection of `user` (Conflict when they have one of that name)."""
        name = clean_name(name)
        if len(self.of_user(user)) >= MAX_COLLECTIONS:
            raise Invalid(f"at most {MAX_COLLECTIONS} collections per reader")
        return self.store.collections.create(
            user.id,
            name,
            self._free_slug(user, name),
            public=public,
            description=clean_description(description),
        )

    def named(self, user: User, name: str) -> Collection:
        """The user's collection of that name, made when missing."""
        found = self.store.collections.find_by_name(user.id, clean_name(name))
        return found or self.create(user, name)

    def _free_slug(self, user: User, name: str) -> str:
        base = slugify(f"{user.username} {name}", max_length=120) or f"collection-{user.id}"
        if base.isdigit():  # numbers name collections by id
            base = f"c-{base}"
        slug, suffix = base, 1
        while self.store.collections.slug_taken(slug):
            suffix += 1
            slug = f"{base}-{suffix}"
        return slug

    def for_reader(self, ref: str, user: User | None) -> Collection:
        """The collection at ``/collections/<ref>`` as `user` (None: anonymous) may see it;
        NotFound for a private collection of someone else."""
        found = self.store.collections.find(ref)
        if found is None or not (found.public or (user is not None and user.id == found.user_id)):
            raise NotFound(f"no collection {ref!r}")
        return found

    def owned(self, collection_id: int, user: User) -> Collection:
        """`user`'s own collection; NotFound for anyone else's."""
        found = self.store.collections.find(str(collection_id))
        if found is None or found.user_id != user.id:
            raise NotFound(f"no collection {collection_id}")
        return found

    def update(
        self,
        collection_id: int,
        user: User,
        *,
        name: str | None = None,
        public: bool | None = None,
        description: str | None = None,
    ) -> Collection:
        self.owned(collection_id, user)
        return self.store.collections.update(
            collection_id,
            name=clean_name(name) if name is not None else None,
            public=public,
            description=clean_description(description) if description is not None else None,
        )

    def delete(self, collection_id: int, user: User) -> None:
        self.store.collections.delete(self.owned(collection_id, user).id)

    def save(self, user: User, paper_id: str, collection_id: int) -> Paper:
        """Put a paper `user` may see into their collection; returns the paper."""
        paper, _ = paper_for_reader(self.store, paper_id, user)
        self.store.collections.add_papers(self.owned(collection_id, user).id, [paper.id])
        return paper

    def add_papers(self, collection: Collection, paper_ids: Sequence[str]) -> int:
        return self.store.collections.add_papers(collection.id, paper_ids)

    def remove(self, user: User, paper_id: str, collection_id: int) -> bool:
        return self.store.collections.remove_paper(self.owned(collection_id, user).id, paper_id)

    def holding(self, user: User | None, paper_id: str) -> set[int]:
        """Which of the user's collections hold the paper."""
        return self.store.collections.holding(user.id, paper_id) if user else set()

    def papers(
        self, collection: Collection, *, limit: int | None = None
    ) -> list[tuple[Paper, dt.datetime]]:
        """Its visible papers with when each was added, latest first."""
        return self.store.collections.papers(collection.id, limit=limit)

    def export(self, collection: Collection, format_name: str) -> tuple[bytes, str, str]:
        """(file contents, media type, file name) of the collection in a citation format."""
        kind = citations.export_format(format_name)
        papers = [paper for paper, _ in self.papers(collection, limit=EXPORT_LIMIT)]
        return (
            citations.write(papers, kind.name),
            kind.media_type,
            f"{collection.slug}.{kind.extension}",
        )
