"""The readers area of the store: feedback on recommendations, the unmatched entries of imported
libraries, and a reader's data as a whole (everything an account holds, to export or delete)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.models import Feedback, LibraryInterest
from paperfeed.store import rows
from paperfeed.store.reader_tables import (
    collection_items,
    collections,
    feedback,
    follows,
    library_interests,
    value_key,
)
from paperfeed.store.schema import (
    digest_outbox,
    digest_sent_papers,
    login_failures,
    papers,
    pending_submissions,
    requested_mails,
    sessions,
    submissions,
    subscribers,
    users,
    votes,
)


class ReaderStore:
    """Feedback, imported interests, and whole accounts' data in one SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- feedback ----------------------------------------------------------------------------

    def set_feedback(self, user_id: int, paper_id: str, kind: str) -> None:
        """Record (or change) the reader's feedback on a stored paper."""
        with self.engine.begin() as conn:
            mine = sa.and_(feedback.c.user_id == user_id, feedback.c.paper_id == paper_id)
            conn.execute(feedback.delete().where(mine))
            conn.execute(
                feedback.insert().values(
                    user_id=user_id, paper_id=paper_id, kind=kind, created_at=rows.utcnow()
                )
            )

    def feedback_of(self, user_id: int) -> list[Feedback]:
        stmt = (
            sa.select(feedback)
            .where(feedback.c.user_id == user_id)
            .order_by(feedback.c.created_at.desc(), feedback.c.paper_id)
        )
        with self.engine.connect() as conn:
            return [
                Feedback(row.paper_id, row.kind, rows.from_naive_utc(row.created_at))
                for row in conn.execute(stmt)
            ]

    def clear_feedback(self, user_id: int) -> int:
        with self.engine.begin() as conn:
            return conn.execute(feedback.delete().where(feedback.c.user_id == user_id)).rowcount

    # -- imported libraries ------------------------------------------------------------------

    def add_interests(self, user_id: int, entries: Sequence[tuple[str, str]]) -> int:
        """Keep (title, abstract) of unmatched library entries; a title kept already is
        skipped. Returns how many were added."""
        with self.engine.begin() as conn:
            known = set(
                conn.execute(
                    sa.select(library_interests.c.title_key).where(
                        library_interests.c.user_id == user_id
                    )
                ).scalars()
            )
            fresh = []
            for title, abstract in entries:
                key = value_key(title)
                if key and key not in known:
                    known.add(key)
                    fresh.append(
                        {
                            "user_id": user_id,
                            "title": title,
                            "title_key": key,
                            "abstract": abstract,
                            "created_at": rows.utcnow(),
                        }
                    )
            if fresh:
                conn.execute(library_interests.insert(), fresh)
        return len(fresh)

    def interests_of(self, user_id: int) -> list[LibraryInterest]:
        stmt = (
            sa.select(library_interests)
            .where(library_interests.c.user_id == user_id)
            .order_by(library_interests.c.id)
        )
        with self.engine.connect() as conn:
            return [
                LibraryInterest(
                    row.id, row.title, row.abstract, rows.from_naive_utc(row.created_at)
                )
                for row in conn.execute(stmt)
            ]

    # -- a whole account ---------------------------------------------------------------------

    def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the account, as JSON-ready values (no password hash, no
        session ids)."""
        with self.engine.connect() as conn:
            user = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
            if user is None:
                return {}
            subscriber_ids = _subscriber_ids(conn, user_id)
            mine = subscribers.c.id.in_(subscriber_ids)
            return {
                "account": _plain(user, drop=("password_hash",)),
                "sessions": _select(
                    conn, sessions, sessions.c.user_id == user_id, ("id_hash", "csrf")
                ),
                "votes": _select(conn, votes, votes.c.user_id == user_id),
                "submissions": _select(conn, submissions, submissions.c.user_id == user_id),
                "pending_submissions": _select(
                    conn, pending_submissions, pending_submissions.c.user_id == user_id
                ),
                "collections": [
                    {
                        **collection,
                        "papers": _select(
                            conn,
                            collection_items,
                            collection_items.c.collection_id == collection["id"],
                        ),
                    }
                    for collection in _select(conn, collections, collections.c.user_id == user_id)
                ],
                "follows": _select(conn, follows, follows.c.user_id == user_id, ("value_key",)),
                "feedback": _select(conn, feedback, feedback.c.user_id == user_id),
                "library": _select(
                    conn, library_interests, library_interests.c.user_id == user_id, ("title_key",)
                ),
                "subscriptions": _select(conn, subscribers, mine),
                "digests": _select(
                    conn, digest_outbox, digest_outbox.c.subscriber_id.in_(subscriber_ids)
                ),
                "digest_papers": _select(
                    conn, digest_sent_papers, digest_sent_papers.c.subscriber_id.in_(subscriber_ids)
                ),
            }

    def delete_account(self, user_id: int) -> dict[str, int]:
        """Delete the account and everything it holds, in one transaction: sessions, votes (the
        papers' counts lowered to match), collections, follows, feedback, library, waiting
        submissions and the linked digest subscriptions. Its feed submissions stay on the feed,
        no longer naming it. Returns the rows removed (or detached) per table."""
        removed: dict[str, int] = {}
        with self.engine.begin() as conn:
            username = conn.execute(
                sa.select(users.c.username).where(users.c.id == user_id)
            ).scalar()
            if username is None:
                return removed
            voted = list(
                conn.execute(
                    sa.select(votes.c.paper_id).where(votes.c.user_id == user_id)
                ).scalars()
            )
            for paper_id in voted:
                conn.execute(
                    papers.update()
                    .where(papers.c.id == paper_id)
                    .values(upvotes=papers.c.upvotes - 1)
                )
            subscriber_ids = _subscriber_ids(conn, user_id)
            steps: list[tuple[str, Any]] = [
                ("votes", votes.delete().where(votes.c.user_id == user_id)),
                ("sessions", sessions.delete().where(sessions.c.user_id == user_id)),
                (
                    "login_failures",
                    login_failures.delete().where(
                        login_failures.c.username == sa.func.lower(username)
                    ),
                ),
                (
                    "pending_submissions",
                    pending_submissions.delete().where(pending_submissions.c.user_id == user_id),
                ),
                (
                    "submissions",
                    submissions.update()
                    .where(submissions.c.user_id == user_id)
                    .values(user_id=None, submitter=None),
                ),
                (
                    "collection_items",
                    collection_items.delete().where(
                        collection_items.c.collection_id.in_(
                            sa.select(collections.c.id).where(collections.c.user_id == user_id)
                        )
                    ),
                ),
                ("collections", collections.delete().where(collections.c.user_id == user_id)),
                ("follows", follows.delete().where(follows.c.user_id == user_id)),
                ("feedback", feedback.delete().where(feedback.c.user_id == user_id)),
                (
                    "library_interests",
                    library_interests.delete().where(library_interests.c.user_id == user_id),
                ),
            ]
            if subscriber_ids:
                steps += [
                    (
                        "follows_of_subscriptions",
                        follows.delete().where(follows.c.subscriber_id.in_(subscriber_ids)),
                    ),
                    (
                        "requested_mails",
                        requested_mails.delete().where(
                            requested_mails.c.subscriber_id.in_(subscriber_ids)
                        ),
                    ),
                    (
                        "digest_outbox",
                        digest_outbox.delete().where(
                            digest_outbox.c.subscriber_id.in_(subscriber_ids)
                        ),
                    ),
                    (
                        "digest_sent_papers",
                        digest_sent_papers.delete().where(
                            digest_sent_papers.c.subscriber_id.in_(subscriber_ids)
                        ),
                    ),
                    (
                        "subscribers",
                        subscribers.delete().where(subscribers.c.id.in_(subscriber_ids)),
                    ),
                ]
            steps.append(("users", users.delete().where(users.c.id == user_id)))
            for name, statement in steps:
                removed[name] = removed.get(name, 0) + conn.execute(statement).rowcount
        return removed


def _subscriber_ids(conn: Connection, user_id: int) -> list[int]:
    stmt = sa.select(subscribers.c.id).where(subscribers.c.user_id == user_id)
    return list(conn.execute(stmt).scalars())


def _plain(row: Any, drop: Sequence[str] = ()) -> dict[str, Any]:
    """A row as JSON-ready values: times in ISO 8601 (UTC), the rest as they are."""
    values: dict[str, Any] = {}
    for name, value in dict(row).items():
        if name in drop:
            continue
        if isinstance(value, dt.datetime):
            value = rows.from_naive_utc(value).isoformat()  # type: ignore[union-attr]
        elif isinstance(value, dt.date):
            value = value.isoformat()
        values[name] = value
    return values


def _select(
    conn: Connection, table: sa.Table, where: sa.ColumnElement[bool], drop: Sequence[str] = ()
) -> list[dict[str, Any]]:
    stmt = sa.select(table).where(where).order_by(*table.primary_key.columns)
    return [_plain(row, drop) for row in conn.execute(stmt).mappings()]
