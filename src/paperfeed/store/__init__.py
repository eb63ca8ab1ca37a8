"""Storage: one interface, a backend chosen from the database URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from paperfeed.store.papers import UpsertCounts
from paperfeed.store.sql import SqlStore

__all__ = ["SqlStore", "UpsertCounts", "open_store", "store_exists"]


def store_exists(database_url: str) -> bool:
    """Whether `database_url` names a store that is there already: a SQLite file that exists
    (opening one that does not creates it). A PostgreSQL database is made by its administrator,
    so it counts as there (opening it says so when it is not)."""
    if not database_url.startswith("sqlite"):
        return True
    path = make_url(database_url).database
    return not path or path == ":memory:" or Path(path).exists()


def open_store(database_url: str, *, keyword_index_dir: Path | None = None) -> SqlStore:
    """Open (and migrate) the store at `database_url`: ``sqlite:///path`` or ``postgresql://...``
    (PostgreSQL: this node's keyword index under `keyword_index_dir`, default the setting)."""
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
        return PostgresStore.open(database_url, keyword_index_dir=keyword_index_dir)
    raise ValueError(f"unsupported database URL {database_url!r}: use sqlite:/// or postgresql://")
