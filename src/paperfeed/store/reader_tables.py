"""Tables of readers' own data (migration 12): collections and their papers, follows, feedback on
recommendations and the unmatched entries of imported libraries.

Follows are one set per reader: the rows of a signed-in reader (``user_id``) are also the
categories, followed authors and saved searches of the digest subscription linked to that
account; a subscriber without an account owns theirs (``subscriber_id``). Migration 12 moves
the follows that subscriptions kept in their preferences (JSON) into the table.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paperfeed.store import rows
from paperfeed.store.schema import metadata, subscribers

log = logging.getLogger(__name__)

collections = sa.Table(
    "collections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("slug", sa.String(160), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("user_id", "name", name="uq_collections_user_name"),
)

collection_items = sa.Table(
    "collection_items",
    metadata,
    sa.Column("collection_id", sa.Integer, sa.ForeignKey("collections.id"), primary_key=True),
    sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("added_at", sa.DateTime, nullable=False),
    sa.Index("ix_collection_items_paper", "paper_id"),
)

# Exactly one owner per row: an account, or a subscriber without one.
follows = sa.Table(
    "follows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id")),
    sa.Column("kind", sa.String(16), nullable=False),  # models.FOLLOW_KINDS
    sa.Column("value", sa.String(200), nullable=False),  # as the reader wrote it
    sa.Column("value_key", sa.String(200), nullable=False),  # casefolded, spaces collapsed
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("user_id", "kind", "value_key", name="uq_follows_user"),
    sa.UniqueConstraint("subscriber_id", "kind", "value_key", name="uq_follows_subscriber"),
    sa.CheckConstraint("(user_id IS NULL) <> (subscriber_id IS NULL)", name="ck_follows_owner"),
    sa.Index("ix_follows_subscriber", "subscriber_id"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # models.FEEDBACK_KINDS
    sa.Column("created_at", sa.DateTime, nullable=False),
)

library_interests = sa.Table(
    "library_interests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("title_key", sa.String(300), nullable=False),
    sa.Column("abstract", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("user_id", "title_key", name="uq_library_interests_title"),
)

READER_TABLES = (collections, collection_items, follows, feedback, library_interests)

# The preference fields that became follows, and the kind each holds.
FOLLOW_FIELDS = {"categories": "category", "authors": "author", "searches": "search"}


def value_key(value: str) -> str:
    """What makes two follows (or two titles) the same: case and spacing aside."""
    return " ".join(value.casefold().split())[:300]


def create_reader_tables(conn: Connection) -> None:
    """Migration 12: the readers' tables, and the subscriptions' follows moved into them."""
    metadata.create_all(conn, tables=list(READER_TABLES))
    moved = 0
    for row in conn.execute(
        sa.select(subscribers.c.id, subscribers.c.user_id, subscribers.c.prefs)
    ):
        prefs: dict[str, Any] = dict(row.prefs or {})
        owner = {"user_id": row.user_id} if row.user_id else {"subscriber_id": row.id}
        for field_name, kind in FOLLOW_FIELDS.items():
            values = prefs.pop(field_name, None) or []
            moved += insert_follows(conn, owner, kind, values)
        conn.execute(subscribers.update().where(subscribers.c.id == row.id).values(prefs=prefs))
    if moved:
        log.info("migration 12: %d followed authors, categories and searches moved", moved)


def owner_clause(owner: dict[str, int]) -> sa.ColumnElement[bool]:
    """The rows of one owner: ``{"user_id": n}`` or ``{"subscriber_id": n}``."""
    ((column, value),) = owner.items()
    return follows.c[column] == value


def insert_follows(conn: Connection, owner: dict[str, int], kind: str, values: Any) -> int:
    """Add `values` of `kind` to the owner's follows, leaving out those already there; returns
    how many were added."""
    existing = set(
        conn.execute(
            sa.select(follows.c.value_key).where(owner_clause(owner), follows.c.kind == kind)
        ).scalars()
    )
    fresh = []
    for value in values:
        key = value_key(str(value))
        if key and key not in existing:
            existing.add(key)
            fresh.append(
                {
                    **owner,
                    "kind": kind,
                    "value": " ".join(str(value).split()),
                    "value_key": key,
                    "created_at": rows.utcnow(),
                }
            )
    if fresh:
        conn.execute(follows.insert(), fresh)
    return len(fresh)
