"""The follows area of the store: the authors, categories and saved searches a reader follows.

One set per reader (see reader_tables.py): an account's rows serve the site and the digest
subscription linked to the account alike; the subscriptions area reads and writes a
subscriber's preferences through the functions here.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.models import Follow, Preferences
from paperfeed.store.chunks import chunks
from paperfeed.store.reader_tables import (
    FOLLOW_FIELDS,
    follows,
    insert_follows,
    owner_clause,
    value_key,
)

Owner = dict[str, int]  # {"user_id": n} or {"subscriber_id": n}


def owner_of(user_id: int | None, subscriber_id: int) -> Owner:
    """Whose follows a subscriber's are: their account's when linked to one, else their own."""
    return {"user_id": user_id} if user_id else {"subscriber_id": subscriber_id}


def load_follows(
    conn: Connection, *, user_ids: Sequence[int] = (), subscriber_ids: Sequence[int] = ()
) -> tuple[dict[int, list[Follow]], dict[int, list[Follow]]]:
    """The follows of these accounts and of these subscribers, each in the order added."""
    found: tuple[dict[int, list[Follow]], dict[int, list[Follow]]] = (
        defaultdict(list),
        defaultdict(list),
    )
    for column, ids, into in (
        (follows.c.user_id, user_ids, found[0]),
        (follows.c.subscriber_id, subscriber_ids, found[1]),
    ):
        for chunk in chunks(list(dict.fromkeys(ids))):
            stmt = (
                sa.select(column, follows.c.kind, follows.c.value)
                .where(column.in_(chunk))
                .order_by(follows.c.id)
            )
            for owner, kind, value in conn.execute(stmt):
                into[owner].append(Follow(kind, value))
    return found


def with_follows(prefs: Preferences, found: Sequence[Follow]) -> Preferences:
    """`prefs` with the categories, authors and searches of `found`."""

    def of(kind: str) -> tuple[str, ...]:
        return tuple(f.value for f in found if f.kind == kind)

    return dataclasses.replace(
        prefs, categories=of("category"), authors=of("author"), searches=of("search")
    )


def replace_follows(conn: Connection, owner: Owner, prefs: Preferences) -> None:
    """Make the owner's follows those of `prefs` (a preferences form shows them all)."""
    conn.execute(follows.delete().where(owner_clause(owner)))
    for field_name, kind in FOLLOW_FIELDS.items():
        insert_follows(conn, owner, kind, getattr(prefs, field_name))


def add_follows(conn: Connection, owner: Owner, prefs: Preferences) -> None:
    """Add the follows of `prefs` to the owner's (a new subscription of a reader who already
    follows things keeps them)."""
    for field_name, kind in FOLLOW_FIELDS.items():
        insert_follows(conn, owner, kind, getattr(prefs, field_name))


def move_to_account(conn: Connection, subscriber_id: int, user_id: int) -> None:
    """A subscriber now linked to an account: their own follows join the account's."""
    stmt = (
        sa.select(follows.c.kind, follows.c.value)
        .where(follows.c.subscriber_id == subscriber_id)
        .order_by(follows.c.id)
    )
    for kind, value in conn.execute(stmt).all():
        insert_follows(conn, {"user_id": user_id}, kind, [value])
    conn.execute(follows.delete().where(follows.c.subscriber_id == subscriber_id))


def preferences_json(prefs: Preferences) -> dict[str, object]:
    """What the subscribers table keeps of `prefs`: all but the follows."""
    data = prefs.to_json()
    for field_name in FOLLOW_FIELDS:
        data.pop(field_name, None)
    return data


class FollowStore:
    """A signed-in reader's follows (the digest's too when their subscription is linked)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def of_user(self, user_id: int) -> list[Follow]:
        with self.engine.connect() as conn:
            by_user, _ = load_follows(conn, user_ids=[user_id])
        return by_user.get(user_id, [])

    def add(self, user_id: int, follow: Follow) -> bool:
        """Follow; False when it was followed already."""
        with self.engine.begin() as conn:
            return insert_follows(conn, {"user_id": user_id}, follow.kind, [follow.value]) == 1

    def remove(self, user_id: int, follow: Follow) -> bool:
        """Unfollow; False when it was not followed."""
        with self.engine.begin() as conn:
            done = conn.execute(
                follows.delete().where(
                    follows.c.user_id == user_id,
                    follows.c.kind == follow.kind,
                    follows.c.value_key == value_key(follow.value),
                )
            )
        return done.rowcount > 0
