"""The store class of a backend, for tests that open a store on a database URL themselves."""

from __future__ import annotations

from paperfeed.store.sql import SqlStore


def store_class(backend: str) -> type[SqlStore]:
    """The SqlStore subclass of `backend` ("sqlite" or "postgres")."""
    if backend == "postgres":
        from paperfeed.store.postgres import PostgresStore

        return PostgresStore
    from paperfeed.store.sqlite import SqliteStore

    return SqliteStore
