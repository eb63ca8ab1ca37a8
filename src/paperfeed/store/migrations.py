"""Versioned schema migrations, applied in place and recorded in ``schema_migrations``."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

_migrations_table = sa.Table(
    "schema_migrations",
    sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def sql_steps(*statements: str) -> Callable[[Connection], None]:
    """A migration body made of plain SQL statements."""

    def run(conn: Connection) -> None:
        for statement in statements:
            conn.exec_driver_sql(statement)

    return run


def apply_migrations(engine: Engine, migrations: Sequence[Migration]) -> int:
    """Apply every migration newer than the database, each in its own transaction."""
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)):
        raise ValueError(f"migration versions must be unique and ascending: {versions}")
    with engine.begin() as conn:
        _migrations_table.create(conn, checkfirst=True)
        applied = set(conn.execute(sa.select(_migrations_table.c.version)).scalars())
    current = max(applied, default=0)
    for migration in migrations:
        if migration.version in applied:
            continue
        log.info("applying migration %d: %s", migration.version, migration.name)
        with engine.begin() as conn:
            migration.apply(conn)
            conn.execute(
                _migrations_table.insert().values(
                    version=migration.version,
                    name=migration.name,
                    applied_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                )
            )
        current = migration.version
    return current
