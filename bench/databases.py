"""Benchmarks on either backend: a fresh database per run, and what the store takes on disk.

`--database-url` in a benchmark names a PostgreSQL server (any database on it, e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``); each run creates its own database there and
drops it afterwards. Without it the run uses a SQLite file in its temporary data dir.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from paperfeed.core import PaperFeed
from paperfeed.store.postgres import driver_url


@contextmanager
def fresh_database(server_url: str | None, name: str, keep: bool = False) -> Iterator[str | None]:
    """The URL of a new empty database `name` on the server (None: use SQLite).

    With `keep`, the database is named `name` exactly, reused if it exists and not dropped.
    """
    if not server_url:
        yield None
        return
    admin = sa.create_engine(driver_url(server_url), isolation_level="AUTOCOMMIT")
    if keep:
        url = sa.make_url(driver_url(server_url)).set(database=name)
        with admin.connect() as conn:
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).scalar()
            if not exists:
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
        admin.dispose()
        yield url.render_as_string(hide_password=False)
        return
    name = f"{name}_{os.getpid()}"
    url = sa.make_url(driver_url(server_url)).set(database=name)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def store_mb(feed: PaperFeed) -> float:
    """Megabytes the store takes: the SQLite file, or the PostgreSQL database."""
    if feed.store.engine.dialect.name == "postgresql":
        with feed.store.engine.connect() as conn:
            size = conn.execute(
                sa.select(sa.func.pg_database_size(sa.func.current_database()))
            ).scalar_one()
    else:
        size = feed.settings.sqlite_path.stat().st_size
    return round(size / 2**20, 1)
