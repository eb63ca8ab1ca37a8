"""Storage: one interface, a backend chosen from the database URL."""

from __future__ import annotations

from paperfeed.store.papers import UpsertCounts
from paperfeed.store.sql import SqlStore

__all__ = ["SqlStore", "UpsertCounts", "open_store"]


def open_store(database_url: str) -> SqlStore:
    """Open (and migrate) the store at `database_url`: ``sqlite:///path`` or ``postgresql://...``."""
    if database_url.startswith("sqlite"):
        from paperfeed.store.sqlite import SqliteStore

        return SqliteStore.open(database_url)
    if database_url.startswith(("postgresql", "postgres")):
        try:
            from paperfeed.store.postgres import PostgresStore
        except ImportError as error:
            raise ImportError(
                "the PostgreSQL backend needs extra packages: pip install 'paperfeed[postgres]'"
            ) from error
        return PostgresStore.open(database_url)
    raise ValueError(f"unsupported database URL {database_url!r}: use sqlite:/// or postgresql://")
