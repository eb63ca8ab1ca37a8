"""The store: one SQL database, composed of five areas.

``store.papers`` (PaperStore), ``store.community`` (CommunityStore), ``store.embeddings``
(EmbeddingStore), ``store.subscriptions`` (SubscriptionStore) and ``store.sessions``
(SessionStore: signed-in browsers, failed log-ins) each hold the queries of one area; a
backend (``sqlite.py``, ``postgres.py``) opens the engine and gives each area its backend's
class where the backends differ. The store itself keeps what spans the areas:
migrations, transactions, the ingest state and the statistics.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.store import rows
from paperfeed.store.collections import CollectionStore
from paperfeed.store.community import CommunityStore
from paperfeed.store.content_version import ContentVersions
from paperfeed.store.embeddings import EmbeddingStore
from paperfeed.store.follows import FollowStore
from paperfeed.store.migrations import Migration, apply_migrations
from paperfeed.store.papers import PaperStore
from paperfeed.store.readers import ReaderStore
from paperfeed.store.schema import ingest_state, papers, submissions, users, votes
from paperfeed.store.sessions import SessionStore
from paperfeed.store.sources import SourceStore
from paperfeed.store.subscriptions import SubscriptionStore

if TYPE_CHECKING:
    from paperfeed.store.bulk import BulkLoad
    from paperfeed.store.job_queue import JobQueue


class SqlStore:
    """Papers, community data, embeddings, digest subscriptions and ingest state in one SQL
    database (see the module docstring)."""

    migrations: ClassVar[Sequence[Migration]] = ()
    job_queue: JobQueue | None = None  # PostgreSQL: the background jobs' queue (job_queue.py)

    def __init__(
        self,
        engine: Engine,
        *,
        papers: PaperStore,
        community: CommunityStore | None = None,
        embeddings: EmbeddingStore | None = None,
        subscriptions: SubscriptionStore | None = None,
    ) -> None:
        self.engine = engine
        self.papers = papers
        self.community = community or CommunityStore(engine)
        self.embeddings = embeddings or EmbeddingStore(engine)
        self.subscriptions = subscriptions or SubscriptionStore(engine)
        self.sessions = SessionStore(engine)
        self.content = ContentVersions(engine)  # moves with what readers see (migration 13)
        self.sources = SourceStore(engine)  # followed sources and their syncs
        self.collections = CollectionStore(engine)  # readers' reading lists
        self.follows = FollowStore(engine)  # followed authors, categories, saved searches
        self.readers = ReaderStore(engine)  # feedback, imported libraries, whole accounts

    @classmethod
    def open(cls, url: str) -> Self:
        """Open the database at `url` and bring its schema up to date (backends implement)."""
        raise NotImplementedError

    @property
    def vectors_in_store(self) -> bool:
        """True when `embeddings.nearest_keys()` searches the vectors in the database
        (pgvector): no ANN index file is kept."""
        return self.embeddings.vectors_in_store

    # -- lifecycle ---------------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the schema up to date in place; returns the schema version."""
        return apply_migrations(self.engine, self.migrations)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def bulk_load(self, *, expected_papers: int) -> BulkLoad | None:
        """A bulk load of about `expected_papers` encoded papers where the backend has one
        (SQLite), else None (the ingest runner then upserts Paper records)."""
        return None

    # -- ingest state ------------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            stmt = sa.select(ingest_state.c.value).where(ingest_state.c.key == key)
            value: str | None = conn.execute(stmt).scalar()
            return value

    def set_state(self, key: str, value: str | None, conn: Connection | None = None) -> None:
        if conn is None:
            with self.transaction() as conn:
                return self.set_state(key, value, conn)
        conn.execute(ingest_state.delete().where(ingest_state.c.key == key))
        if value is not None:
            conn.execute(
                ingest_state.insert().values(key=key, value=value, updated_at=rows.utcnow())
            )
        return None

    # -- statistics --------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counts of what the store holds."""
        with self.engine.connect() as conn:

            def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
                stmt = sa.select(sa.func.count()).select_from(table)
                return int(conn.execute(stmt.where(*where) if where else stmt).scalar_one())

            def scalar(stmt: sa.Select[Any]) -> int:
                return int(conn.execute(stmt).scalar_one())

            result = {
                "papers": count(papers),
                "arxiv_papers": count(papers, ~papers.c.id.like("local:%")),
                "hidden_papers": count(papers, papers.c.hidden == sa.true()),
                "authors": _distinct_authors(conn),
                "submissions": count(submissions),
                "submission_days": scalar(sa.select(sa.func.count(sa.distinct(submissions.c.day)))),
                "votes": count(votes),
                "upvotes": scalar(sa.select(sa.func.coalesce(sa.func.sum(papers.c.upvotes), 0))),
                "users": count(users),
            }
        result.update(self.extra_stats())
        return result

    def extra_stats(self) -> dict[str, int]:
        """Counts backends or features add to `stats()` (none by default)."""
        return {}


def _distinct_authors(conn: Connection) -> int:
    names: set[str] = set()
    for (authors,) in conn.execute(sa.select(papers.c.authors)).yield_per(10_000):
        names.update(a.casefold() for a in authors.split("\n") if a)
    return len(names)
