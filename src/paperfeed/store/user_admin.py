"""Operators' account administration in the store: listing the accounts and setting a
password hash (deleting one is the readers area's `delete_account`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from paperfeed.errors import NotFound
from paperfeed.models import User
from paperfeed.store import rows
from paperfeed.store.schema import users


def _same_name(username: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(users.c.username) == username.strip().lower()


class UserAdmin:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def list_users(self) -> list[User]:
        """Every account, oldest first."""
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(users).order_by(users.c.id)).mappings()
            return [rows.user_from_row(row) for row in found]

    def set_password_hash(self, username: str, password_hash: str) -> User:
        """Store a new password hash for `username` (any case); NotFound for no such user."""
        with self.engine.begin() as conn:
            done = conn.execute(
                users.update().where(_same_name(username)).values(password_hash=password_hash)
            )
            if done.rowcount == 0:
                raise NotFound(f"no user {username!r}")
            row = conn.execute(sa.select(users).where(_same_name(username))).mappings().one()
        return rows.user_from_row(row)
