"""The storage behaviour every SQL backend shares, written once in SQLAlchemy Core.

Backends (``sqlite.py``, ``postgres.py``) add their engine set-up, migrations for backend-only
objects and keyword search. Nothing here knows which database it talks to.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.errors import Conflict, NotFound
from paperfeed.merge import merge_papers, with_sources
from paperfeed.models import FeedItem, Paper, Submission, User
from paperfeed.store import rows
from paperfeed.store.migrations import Migration, apply_migrations
from paperfeed.store.schema import embeddings, ingest_state, papers, submissions, users, votes
from paperfeed.store.subscriptions import SubscriptionStoreMixin

if TYPE_CHECKING:
    from paperfeed.query import Query

log = logging.getLogger(__name__)

FEED_SORTS = ("upvotes", "date")


@dataclass(slots=True)
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class SqlStore(SubscriptionStoreMixin):
    """Papers, community data and ingest state in one SQL database."""

    migrations: Sequence[Migration] = ()

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # TEMPORARY while the areas are split into classes of their own: each area is this object.
    @property
    def papers(self) -> SqlStore:
        return self

    @property
    def community(self) -> SqlStore:
        return self

    @property
    def embeddings(self) -> SqlStore:
        return self

    @property
    def subscriptions(self) -> SqlStore:
        return self

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

    # -- papers ------------------------------------------------------------------------------

    def upsert_papers(
        self, incoming: Iterable[Paper], conn: Connection | None = None
    ) -> UpsertCounts:
        """Insert new papers and merge records into stored ones (newer versions win).

        Re-importing the same records changes nothing and counts them as unchanged.
        """
        if conn is None:
            with self.transaction() as conn:
                return self.upsert_papers(incoming, conn)
        batch: dict[str, Paper] = {}
        for paper in incoming:
            previous = batch.get(paper.id)
            batch[paper.id] = merge_papers(previous, paper) if previous else with_sources(paper)
        counts = UpsertCounts()
        if not batch:
            return counts
        stored = {p.id: (key, p) for key, p in self._papers_with_keys(conn, list(batch))}
        now = utcnow()
        inserts, updates = [], []
        for paper_id, paper in batch.items():
            if paper_id not in stored:
                inserts.append(rows.paper_values(paper, now))
                counts.new += 1
                continue
            key, old = stored[paper_id]
            merged = merge_papers(old, paper)
            new_values = rows.paper_values(merged, now)
            if _same_content(rows.paper_values(old, now), new_values):
                counts.unchanged += 1
            else:
                updates.append({**new_values, "_key": key})
                counts.updated += 1
        if inserts:
            self._bulk_insert(conn, papers, inserts)
        if updates:
            columns = {c: sa.bindparam(c) for c in updates[0] if c != "_key"}
            stmt = papers.update().where(papers.c.key == sa.bindparam("_key")).values(columns)
            conn.execute(stmt, updates)
        return counts

    def _bulk_insert(self, conn: Connection, table: sa.Table, values: list[dict[str, Any]]) -> None:
        """Insert many rows (backends may override with a faster driver-level path)."""
        conn.execute(table.insert(), values)

    def _papers_with_keys(self, conn: Connection, ids: list[str]) -> Iterator[tuple[int, Paper]]:
        for chunk_start in range(0, len(ids), 900):
            chunk = ids[chunk_start : chunk_start + 900]
            result = conn.execute(sa.select(papers).where(papers.c.id.in_(chunk))).mappings()
            for row in result:
                yield row["key"], rows.paper_from_row(row)

    def get_paper(self, paper_id: str) -> Paper:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(papers).where(papers.c.id == paper_id)).mappings().first()
        if row is None:
            raise NotFound(f"no paper {paper_id!r}")
        return rows.paper_from_row(row)

    def find_paper(self, paper_id: str) -> Paper | None:
        try:
            return self.get_paper(paper_id)
        except NotFound:
            return None

    def get_papers(self, paper_ids: Sequence[str]) -> list[Paper]:
        """Papers in the order of `paper_ids`; unknown ids are left out."""
        with self.engine.connect() as conn:
            found = {p.id: p for _, p in self._papers_with_keys(conn, list(paper_ids))}
        return [found[i] for i in paper_ids if i in found]

    def papers_by_keys(self, keys: Sequence[int]) -> list[Paper]:
        """Papers in the order of their integer `keys`; unknown keys are left out."""
        found = self.papers_by_key(keys)
        return [found[k] for k in keys if k in found]

    def papers_by_key(self, keys: Sequence[int]) -> dict[int, Paper]:
        """The paper of each known key."""
        found: dict[int, Paper] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 900):
                chunk = list(keys[start : start + 900])
                for row in conn.execute(
                    sa.select(papers).where(papers.c.key.in_(chunk))
                ).mappings():
                    found[row["key"]] = rows.paper_from_row(row)
        return found

    def paper_keys(self, paper_ids: Sequence[str]) -> dict[str, int]:
        with self.engine.connect() as conn:
            stmt = sa.select(papers.c.id, papers.c.key).where(papers.c.id.in_(list(paper_ids)))
            return {row.id: row.key for row in conn.execute(stmt)}

    def key_by_title(self, title: str) -> int | None:
        """The key of the paper whose title equals `title` (case-insensitive), if exactly one
        paper's does."""
        with self.engine.connect() as conn:
            stmt = sa.select(papers.c.key).where(sa.func.lower(papers.c.title) == title.lower())
            found = conn.execute(stmt.limit(2)).scalars().all()
        return found[0] if len(found) == 1 else None

    def count_papers(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(papers)).scalar_one()

    def set_paper_hidden(self, paper_id: str, hidden: bool) -> None:
        with self.transaction() as conn:
            done = conn.execute(
                papers.update().where(papers.c.id == paper_id).values(hidden=hidden)
            )
        if done.rowcount == 0:
            raise NotFound(f"no paper {paper_id!r}")

    # -- submissions and the feed ------------------------------------------------------------

    def save_submissions(self, items: Iterable[Submission], conn: Connection | None = None) -> int:
        """Record submissions, one per paper (a repeat updates its upvotes); returns new ones."""
        if conn is None:
            with self.transaction() as conn:
                return self.save_submissions(items, conn)
        items = list({s.paper_id: s for s in items}.values())
        if not items:
            return 0
        existing = {
            row.paper_id: row.imported_upvotes
            for row in conn.execute(
                sa.select(submissions.c.paper_id, submissions.c.imported_upvotes).where(
                    submissions.c.paper_id.in_([s.paper_id for s in items])
                )
            )
        }
        fresh = [rows.submission_values(s) for s in items if s.paper_id not in existing]
        if fresh:
            conn.execute(submissions.insert(), fresh)
        deltas = [
            {"_id": s.paper_id, "_delta": s.imported_upvotes - existing.get(s.paper_id, 0)}
            for s in items
            if s.imported_upvotes != existing.get(s.paper_id, 0)
        ]
        changed = [d for d in deltas if d["_id"] in existing]
        if changed:
            conn.execute(
                submissions.update()
                .where(submissions.c.paper_id == sa.bindparam("_id"))
                .values(imported_upvotes=submissions.c.imported_upvotes + sa.bindparam("_delta")),
                changed,
            )
        if deltas:
            conn.execute(
                papers.update()
                .where(papers.c.id == sa.bindparam("_id"))
                .values(upvotes=papers.c.upvotes + sa.bindparam("_delta")),
                deltas,
            )
        return len(fresh)

    def submit(self, submission: Submission) -> None:
        """A user's submission of a stored paper to the feed; a second one is a Conflict."""
        with self.transaction() as conn:
            known = conn.execute(sa.select(papers.c.id).where(papers.c.id == submission.paper_id))
            if known.first() is None:
                raise NotFound(f"no paper {submission.paper_id!r}")
            taken = conn.execute(
                sa.select(submissions.c.day).where(submissions.c.paper_id == submission.paper_id)
            ).first()
            if taken is not None:
                raise Conflict(f"{submission.paper_id} was already submitted on {taken.day}")
            conn.execute(submissions.insert().values(**rows.submission_values(submission)))

    def get_submission(self, paper_id: str) -> Submission | None:
        with self.engine.connect() as conn:
            stmt = sa.select(submissions).where(submissions.c.paper_id == paper_id)
            row = conn.execute(stmt).mappings().first()
        return rows.submission_from_row(row) if row else None

    def set_submission_hidden(self, paper_id: str, hidden: bool) -> None:
        with self.transaction() as conn:
            stmt = submissions.update().where(submissions.c.paper_id == paper_id)
            done = conn.execute(stmt.values(hidden=hidden))
        if done.rowcount == 0:
            raise NotFound(f"no submission of {paper_id!r}")

    def listing(
        self,
        start: dt.date,
        end: dt.date,
        *,
        sort: str = "upvotes",
        limit: int = 50,
        offset: int = 0,
        submitter: str | None = None,
        include_hidden: bool = False,
    ) -> list[FeedItem]:
        """Submissions with ``start <= day <= end``, best-voted (or newest) first."""
        order: list[Any] = (
            [papers.c.upvotes.desc(), submissions.c.submitted_at.desc()]
            if sort == "upvotes"
            else [submissions.c.submitted_at.desc(), papers.c.upvotes.desc()]
        )
        stmt = (
            sa.select(papers, *[c.label("s_" + c.name) for c in submissions.c])
            .join(submissions, submissions.c.paper_id == papers.c.id)
            .order_by(*order, papers.c.id)
            .limit(limit)
            .offset(offset)
        )
        # Only bounded ends: an open range would make SQLite read and sort every submission
        # rather than walk the submission-time index (every day, newest first: 67 -> 1 ms).
        if start > dt.date.min:
            stmt = stmt.where(submissions.c.day >= start)
        if end < dt.date.max:
            stmt = stmt.where(submissions.c.day <= end)
        if submitter:
            stmt = stmt.where(submissions.c.submitter == submitter)
        if not include_hidden:
            stmt = stmt.where(papers.c.hidden == sa.false(), submissions.c.hidden == sa.false())
        with self.engine.connect() as conn:
            result = conn.execute(stmt).mappings().all()
        return [_feed_item(row) for row in result]

    def submissions_since(self, since: dt.datetime, limit: int = 500) -> list[FeedItem]:
        """Visible submissions made at or after `since` (for trending), any order."""
        stmt = (
            sa.select(papers, *[c.label("s_" + c.name) for c in submissions.c])
            .join(submissions, submissions.c.paper_id == papers.c.id)
            .where(
                submissions.c.submitted_at >= rows.to_naive_utc(since),
                papers.c.hidden == sa.false(),
                submissions.c.hidden == sa.false(),
            )
            .order_by(papers.c.upvotes.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_feed_item(row) for row in conn.execute(stmt).mappings()]

    def adjacent_days(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The nearest days before and after `day` that have submissions."""
        with self.engine.connect() as conn:
            before = conn.execute(
                sa.select(sa.func.max(submissions.c.day)).where(submissions.c.day < day)
            ).scalar()
            after = conn.execute(
                sa.select(sa.func.min(submissions.c.day)).where(submissions.c.day > day)
            ).scalar()
        return _as_date(before), _as_date(after)

    def latest_day(self) -> dt.date | None:
        with self.engine.connect() as conn:
            return _as_date(conn.execute(sa.select(sa.func.max(submissions.c.day))).scalar())

    # -- users and votes ---------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        password_hash: str | None,
        email: str | None = None,
        *,
        is_admin: bool = False,
    ) -> User:
        values = {
            "username": username,
            "email": email,
            "password_hash": password_hash,
            "is_admin": is_admin,
            "created_at": utcnow(),
        }
        try:
            with self.transaction() as conn:
                user_id = conn.execute(users.insert().values(**values)).inserted_primary_key[0]
        except sa.exc.IntegrityError as error:
            raise Conflict(f"the user name {username!r} or that e-mail is already taken") from error
        return User(id=user_id, **values)  # type: ignore[arg-type]

    def _user_where(self, clause: sa.ColumnElement[bool]) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(clause)).mappings().first()
        return rows.user_from_row(row) if row else None

    def get_user(self, user_id: int) -> User | None:
        return self._user_where(users.c.id == user_id)

    def get_user_by_username(self, username: str) -> User | None:
        return self._user_where(users.c.username == username)

    def get_user_by_email(self, email: str) -> User | None:
        return self._user_where(sa.func.lower(users.c.email) == email.lower())

    def set_admin(self, username: str, is_admin: bool = True) -> None:
        with self.transaction() as conn:
            stmt = users.update().where(users.c.username == username).values(is_admin=is_admin)
            if conn.execute(stmt).rowcount == 0:
                raise NotFound(f"no user {username!r}")

    def add_vote(self, paper_id: str, user_id: int) -> bool:
        """Upvote once; returns False when the user had already voted for the paper."""
        with self.transaction() as conn:
            if conn.execute(sa.select(papers.c.key).where(papers.c.id == paper_id)).first() is None:
                raise NotFound(f"no paper {paper_id!r}")
            exists = conn.execute(
                sa.select(votes.c.user_id).where(
                    votes.c.paper_id == paper_id, votes.c.user_id == user_id
                )
            ).first()
            if exists:
                return False
            conn.execute(
                votes.insert().values(paper_id=paper_id, user_id=user_id, created_at=utcnow())
            )
            conn.execute(
                papers.update().where(papers.c.id == paper_id).values(upvotes=papers.c.upvotes + 1)
            )
        return True

    def remove_vote(self, paper_id: str, user_id: int) -> bool:
        with self.transaction() as conn:
            done = conn.execute(
                votes.delete().where(votes.c.paper_id == paper_id, votes.c.user_id == user_id)
            )
            if done.rowcount == 0:
                return False
            conn.execute(
                papers.update().where(papers.c.id == paper_id).values(upvotes=papers.c.upvotes - 1)
            )
        return True

    def voted_papers(self, user_id: int, paper_ids: Sequence[str] | None = None) -> set[str]:
        stmt = sa.select(votes.c.paper_id).where(votes.c.user_id == user_id)
        if paper_ids is not None:
            stmt = stmt.where(votes.c.paper_id.in_(list(paper_ids)))
        with self.engine.connect() as conn:
            return set(conn.execute(stmt).scalars())

    # -- search: keyword side (backends implement) and embedding rows -----------------------

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
        """Keys of visible papers matching the query's words, best first, with their scores."""
        raise NotImplementedError

    def text_filter_conditions(self, query: Query) -> list[sa.ColumnElement[bool]]:
        """WHERE conditions on `papers` for the query's filters, required phrases and exclusions
        (hidden papers never pass); backends implement them with their full-text search."""
        raise NotImplementedError

    def filter_keys(self, keys: Sequence[int], query: Query) -> set[int]:
        """The `keys` passing the query's filters, required phrases and exclusions (not hidden)."""
        return self._keys_where(keys, self.text_filter_conditions(query))

    def _keys_where(
        self, keys: Sequence[int], conditions: list[sa.ColumnElement[bool]]
    ) -> set[int]:
        kept: set[int] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 900):
                chunk = list(keys[start : start + 900])
                stmt = sa.select(papers.c.key).where(papers.c.key.in_(chunk), *conditions)
                kept.update(conn.execute(stmt).scalars())
        return kept

    def list_keys(self, query: Query, limit: int, offset: int = 0) -> tuple[list[int], int]:
        """Papers passing the query's filters (no words), newest or most upvoted first, and
        how many pass in all."""
        conditions = self.text_filter_conditions(query)
        order = (
            [papers.c.upvotes.desc(), papers.c.published.desc().nulls_last()]
            if query.sort == "upvotes"
            else [papers.c.published.desc().nulls_last()]
        )
        stmt = sa.select(papers.c.key).where(*conditions).order_by(*order, papers.c.key.desc())
        count = sa.select(sa.func.count()).select_from(papers).where(*conditions)
        with self.engine.connect() as conn:
            keys = list(conn.execute(stmt.limit(limit).offset(offset)).scalars())
            return keys, conn.execute(count).scalar_one()

    def sort_keys(self, keys: Sequence[int], sort: str) -> list[int]:
        """`keys` ordered by "date" (newest first) or "upvotes" (most first); ties keep order."""
        column = papers.c.upvotes if sort == "upvotes" else papers.c.published
        values: dict[int, Any] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 900):
                chunk = list(keys[start : start + 900])
                stmt = sa.select(papers.c.key, column).where(papers.c.key.in_(chunk))
                values.update({row[0]: row[1] for row in conn.execute(stmt)})
        present = [k for k in keys if k in values]
        dated = [k for k in present if values[k] is not None]
        undated = [k for k in present if values[k] is None]
        return sorted(dated, key=lambda k: values[k], reverse=True) + undated

    def embedding_candidates(
        self,
        model: str,
        *,
        after_key: int = 0,
        modified_since: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[tuple[int, str, str, str | None]]:
        """Papers that may need a new `model` embedding: none yet, another model's, or modified
        since `modified_since`: (key, title, abstract, stored text_hash), by key > `after_key`."""
        stmt = (
            sa.select(papers.c.key, papers.c.title, papers.c.abstract, embeddings.c.text_hash)
            .select_from(papers.outerjoin(embeddings, embeddings.c.paper_key == papers.c.key))
            .where(papers.c.key > after_key, _stale_embedding(model, modified_since))
            .order_by(papers.c.key)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                (row.key, row.title, row.abstract, row.text_hash or None)
                for row in conn.execute(stmt)
            ]

    def save_embeddings(self, model: str, items: Sequence[tuple[int, str, np.ndarray]]) -> int:
        """Store (key, text_hash, vector) for `model`, replacing older ones; each row gets the
        next `seq`. Returns the last seq written (0 when nothing was)."""
        if not items:
            return self.embedding_status(model)[1]
        with self.transaction() as conn:
            last = conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(embeddings.c.seq), 0))
            ).scalar_one()
            keys = [key for key, _, _ in items]
            for start in range(0, len(keys), 900):
                conn.execute(
                    embeddings.delete().where(embeddings.c.paper_key.in_(keys[start : start + 900]))
                )
            values = [
                {
                    "paper_key": key,
                    "model": model,
                    "text_hash": text_hash,
                    "vector": np.asarray(vector, dtype=np.float32).tobytes(),
                    "seq": last + i,
                }
                for i, (key, text_hash, vector) in enumerate(items, start=1)
            ]
            conn.execute(embeddings.insert(), values)
        return last + len(items)

    def embeddings_since(
        self, model: str, seq: int, batch_size: int = 5000
    ) -> Iterator[tuple[int, np.ndarray, int]]:
        """(key, vector, seq) of `model` embeddings written after `seq`, in seq order."""
        while True:
            stmt = (
                sa.select(embeddings.c.paper_key, embeddings.c.vector, embeddings.c.seq)
                .where(embeddings.c.model == model, embeddings.c.seq > seq)
                .order_by(embeddings.c.seq)
                .limit(batch_size)
            )
            with self.engine.connect() as conn:
                batch = conn.execute(stmt).all()
            for key, blob, row_seq in batch:
                yield key, np.frombuffer(blob, dtype=np.float32), row_seq
            if len(batch) < batch_size:
                return
            seq = batch[-1][2]

    def embedding_status(self, model: str) -> tuple[int, int]:
        """(how many `model` embeddings are stored, the highest seq among them; 0 if none)."""
        stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(embeddings.c.seq), 0)).where(
            embeddings.c.model == model
        )
        with self.engine.connect() as conn:
            count, top = conn.execute(stmt).one()
        return int(count), int(top)

    def latest_embedding_seq(self, model: str) -> int:
        """The highest seq of the `model` embeddings (0 if none), from an index: a cheap way to
        tell whether any were written since a check."""
        stmt = (
            sa.select(embeddings.c.seq)
            .where(embeddings.c.model == model)
            .order_by(embeddings.c.seq.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    # True when nearest_keys() searches the vectors in the database (pgvector): no ANN index file.
    vectors_in_store = False

    def deferred_vector_indexes(self) -> AbstractContextManager[None]:
        """While embedding many papers: a vector index the database lacks is built once at the
        end instead of growing row by row (a no-op where the index is a file, see search)."""
        return contextlib.nullcontext()

    def nearest_keys(
        self, model: str, vector: np.ndarray, k: int, exclude: Sequence[int] | set[int] = ()
    ) -> list[tuple[int, float]] | None:
        """(key, cosine similarity) of the `k` `model` embeddings nearest `vector`, best first,
        skipping `exclude`; None when the backend cannot (search the local ANN index instead)."""
        return None

    def get_embeddings(self, model: str, keys: Sequence[int]) -> dict[int, tuple[np.ndarray, str]]:
        """key -> (vector, text_hash) of the stored `model` embeddings of `keys`."""
        found: dict[int, tuple[np.ndarray, str]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 900):
                chunk = list(keys[start : start + 900])
                stmt = sa.select(
                    embeddings.c.paper_key, embeddings.c.vector, embeddings.c.text_hash
                ).where(embeddings.c.model == model, embeddings.c.paper_key.in_(chunk))
                for key, blob, text_hash in conn.execute(stmt):
                    found[key] = (np.frombuffer(blob, dtype=np.float32), text_hash)
        return found

    # -- ingest state ------------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            stmt = sa.select(ingest_state.c.value).where(ingest_state.c.key == key)
            return conn.execute(stmt).scalar()

    def set_state(self, key: str, value: str | None, conn: Connection | None = None) -> None:
        if conn is None:
            with self.transaction() as conn:
                return self.set_state(key, value, conn)
        conn.execute(ingest_state.delete().where(ingest_state.c.key == key))
        if value is not None:
            conn.execute(ingest_state.insert().values(key=key, value=value, updated_at=utcnow()))
        return None

    # -- statistics --------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counts of what the store holds."""
        with self.engine.connect() as conn:

            def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
                stmt = sa.select(sa.func.count()).select_from(table)
                return conn.execute(stmt.where(*where) if where else stmt).scalar_one()

            result = {
                "papers": count(papers),
                "arxiv_papers": count(papers, ~papers.c.id.like("local:%")),
                "hidden_papers": count(papers, papers.c.hidden == sa.true()),
                "authors": self._distinct_authors(conn),
                "submissions": count(submissions),
                "submission_days": conn.execute(
                    sa.select(sa.func.count(sa.distinct(submissions.c.day)))
                ).scalar_one(),
                "votes": count(votes),
                "upvotes": conn.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(papers.c.upvotes), 0))
                ).scalar_one(),
                "users": count(users),
            }
        result.update(self.extra_stats())
        return result

    def _distinct_authors(self, conn: Connection) -> int:
        names: set[str] = set()
        for (authors,) in conn.execute(sa.select(papers.c.authors)).yield_per(10_000):
            names.update(a.casefold() for a in authors.split("\n") if a)
        return len(names)

    def extra_stats(self) -> dict[str, int]:
        """Counts backends or features add (embeddings, subscribers...)."""
        return {}


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return all(old[k] == new[k] for k in new if k not in ("modified_at", "field_sources", "source"))


def _stale_embedding(model: str, modified_since: dt.datetime | None) -> sa.ColumnElement[bool]:
    stale = [embeddings.c.paper_key.is_(None), embeddings.c.model != model]
    if modified_since is not None:
        stale.append(papers.c.modified_at >= modified_since)
    return sa.or_(*stale)


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value  # type: ignore[return-value]
    return dt.date.fromisoformat(str(value))


def _feed_item(row: Any) -> FeedItem:
    paper = rows.paper_from_row(row)
    submission = rows.submission_from_row({c.name: row["s_" + c.name] for c in submissions.c})
    return FeedItem(paper=paper, submission=submission, upvotes=paper.upvotes)
