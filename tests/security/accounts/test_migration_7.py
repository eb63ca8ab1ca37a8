"""Migration 7 on a database made before it: accounts whose names or e-mail addresses differ
only in case are resolved (the oldest keeps both, later names get their id appended, later
duplicate addresses are dropped) and both are unique without case from then on."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from paperfeed.errors import Conflict
from paperfeed.store import SqlStore
from tests.support.stores import store_class


def test_duplicates_differing_in_case_are_resolved(
    backend: str, empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = empty_database_url
    cls = store_class(backend)
    every = cls.migrations
    monkeypatch.setattr(cls, "migrations", [m for m in every if m.version < 7])
    old: SqlStore = cls.open(url)
    with old.engine.begin() as conn:  # the schema as migrations 1-6 made it, before this code
        conn.exec_driver_sql("DROP INDEX ux_users_username_lower")
        conn.exec_driver_sql("DROP INDEX ux_users_email_lower")
    for name, email in [
        ("alice", "Alice@Example.org"),  # id 1
        ("ALICE", "alice@example.org"),  # id 2
        ("bob", None),  # id 3
        ("Bob", "bob@example.org"),  # id 4
        ("bob-4", None),  # id 5: the name the rename would pick first
    ]:
        old.community.create_user(name, None, email)
    old.close()

    monkeypatch.setattr(cls, "migrations", every)
    store: SqlStore = cls.open(url)
    try:
        users = {u.id: (u.username, u.email) for u in map(store.community.get_user, range(1, 6))}
        assert users == {
            1: ("alice", "Alice@Example.org"),
            2: ("ALICE-2", None),
            3: ("bob", None),
            4: ("Bob-4-2", "bob@example.org"),
            5: ("bob-4", None),
        }
        with pytest.raises(Conflict):
            store.community.create_user("BOB", None)
        with pytest.raises(Conflict):
            store.community.create_user("carol", None, "ALICE@example.ORG")
        with store.engine.connect() as conn:
            assert {"sessions", "login_failures"} <= set(sa.inspect(conn).get_table_names())
    finally:
        store.close()
