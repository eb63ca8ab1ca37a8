"""Follows: the authors, categories and saved searches a signed-in reader follows.

They are one set with the reader's digest: a subscription linked to the account (subscribed
while signed in) picks its followed authors, categories and saved searches from these same rows
(store/follows.py), and its preferences page edits them. So the limits are the digest's.
"""

from __future__ import annotations

from paperfeed.errors import Invalid
from paperfeed.models import (
    FOLLOW_KINDS,
    MAX_AUTHORS,
    MAX_CATEGORIES,
    MAX_SEARCHES,
    MAX_TEXT,
    Follow,
    Preferences,
    User,
)
from paperfeed.store import SqlStore

LIMITS = {"author": MAX_AUTHORS, "category": MAX_CATEGORIES, "search": MAX_SEARCHES}
NAMES = {"author": "followed authors", "category": "categories", "search": "saved searches"}


def checked(kind: str, value: str) -> Follow:
    """The follow a form describes; Invalid when the kind is unknown or the value unusable
    (the same checks as the digest's preferences)."""
    if kind not in FOLLOW_KINDS:
        raise Invalid(f"one can follow {', '.join(FOLLOW_KINDS)}, not {kind!r}")
    text = " ".join((value or "").split())
    if not text:
        raise Invalid(f"say which {kind} to follow")
    if len(text) > MAX_TEXT:
        raise Invalid(f"at most {MAX_TEXT} characters")
    if kind == "category":
        Preferences(categories=(text,))  # Invalid unless it looks like cs.CL or cs
    return Follow(kind, text)


class Follows:
    """A reader's follows over one store."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def of(self, user: User) -> list[Follow]:
        return self.store.follows.of_user(user.id)

    def follow(self, user: User, kind: str, value: str) -> Follow:
        """Follow (nothing changes when followed already); Invalid beyond the digest's limit
        for that kind."""
        follow = checked(kind, value)
        current = [f for f in self.of(user) if f.kind == follow.kind]
        known = any(f.value.casefold() == follow.value.casefold() for f in current)
        if len(current) >= LIMITS[follow.kind] and not known:
            raise Invalid(f"at most {LIMITS[follow.kind]} {NAMES[follow.kind]}: unfollow one first")
        self.store.follows.add(user.id, follow)
        return follow

    def unfollow(self, user: User, kind: str, value: str) -> bool:
        return self.store.follows.remove(user.id, checked(kind, value))

    def preferences(self, user: User) -> Preferences:
        """Default digest preferences with `user`'s follows (a signed-in reader's subscribe
        form starts from them)."""
        mine = self.of(user)
        return Preferences.create(
            categories=[f.value for f in mine if f.kind == "category"],
            authors=[f.value for f in mine if f.kind == "author"],
            searches=[f.value for f in mine if f.kind == "search"],
        )

    def follows(self, user: User | None, kind: str, value: str) -> bool:
        """Whether `user` follows this (False for visitors)."""
        if user is None:
            return False
        wanted = checked(kind, value)
        return any(
            f.kind == wanted.kind and f.value.casefold() == wanted.value.casefold()
            for f in self.of(user)
        )
