"""Copy one store into another (e.g. SQLite to PostgreSQL), resumably, keeping every key.

Tables are copied in foreign-key order, each in primary-key order and in batches; each batch is
committed together with a marker (the last primary key copied, in the target's ``ingest_state``),
so a killed copy continues where it stopped when run again. Serial counters are moved past the
copied keys, pgvector values and indexes are made on the way, and the row counts of both stores
are compared at the end.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from paperfeed.store.rows import utcnow
from paperfeed.store.schema import embeddings, ingest_state, metadata
from paperfeed.store.sql import SqlStore

log = logging.getLogger(__name__)

MARKER_PREFIX = "migrate.copied:"
BATCH_SIZE = 2000


class CopyError(RuntimeError):
    """The target holds data the copy did not put there, or the counts differ afterwards."""


@dataclass(slots=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


@dataclass(slots=True)
class CopyReport:
    copied: dict[str, int] = field(default_factory=dict)  # rows written by this run, per table
    counts: list[TableCount] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.counts)


def copied_tables(source: SqlStore, target: SqlStore) -> list[sa.Table]:
    """The shared tables both stores have, parents before children."""
    present = set(sa.inspect(source.engine).get_table_names())
    present &= set(sa.inspect(target.engine).get_table_names())
    return [t for t in metadata.sorted_tables if t.name in present]


def _marker_key(table: sa.Table) -> str:
    return MARKER_PREFIX + table.name


def _own_rows(table: sa.Table) -> sa.ColumnElement[bool]:
    """The rows that are copied and counted (not the copy's own markers)."""
    if table is ingest_state:
        return ~ingest_state.c.key.startswith(MARKER_PREFIX)
    return sa.true()


def count_rows(store: SqlStore, tables: list[sa.Table]) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t.name: conn.execute(
                sa.select(sa.func.count()).select_from(t).where(_own_rows(t))
            ).scalar_one()
            for t in tables
        }


def _batches(
    source: SqlStore, table: sa.Table, after: list[Any] | None, batch_size: int
) -> Iterator[list[dict[str, Any]]]:
    key = list(table.primary_key.columns)
    while True:
        stmt = sa.select(table).where(_own_rows(table)).order_by(*key).limit(batch_size)
        if after is not None:
            stmt = stmt.where(sa.tuple_(*key) > sa.tuple_(*(sa.literal(v) for v in after)))
        with source.engine.connect() as conn:
            rows = [dict(row) for row in conn.execute(stmt).mappings()]
        if not rows:
            return
        yield rows
        after = [rows[-1][c.name] for c in key]


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _load_marker(conn: sa.Connection, table: sa.Table) -> list[Any] | None:
    value = conn.execute(
        sa.select(ingest_state.c.value).where(ingest_state.c.key == _marker_key(table))
    ).scalar()
    if value is None:
        return None
    stored = json.loads(value)
    key = list(table.primary_key.columns)
    return [_from_json(column, v) for column, v in zip(key, stored, strict=True)]


def _from_json(column: sa.Column[Any], value: Any) -> Any:
    python_type = column.type.python_type
    return python_type.fromisoformat(value) if hasattr(python_type, "fromisoformat") else value


def _insert_target(
    target: SqlStore, table: sa.Table
) -> tuple[sa.Table, Callable[[dict[str, Any]], dict[str, Any]]]:
    """Where rows of `table` go in the target and how each is adapted (pgvector values)."""
    if table is embeddings and target.vectors_in_store:
        from paperfeed.store.postgres_embeddings import vector_embeddings

        def with_vector(row: dict[str, Any]) -> dict[str, Any]:
            return {**row, "embedding": np.frombuffer(row["vector"], dtype=np.float32)}

        return vector_embeddings, with_vector
    return table, lambda row: row


def copy_table(
    source: SqlStore,
    target: SqlStore,
    table: sa.Table,
    *,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Copy the rows of `table` not copied yet; returns how many this call wrote."""
    with target.engine.connect() as conn:
        after = _load_marker(conn, table)
        if (
            after is None
            and conn.execute(
                sa.select(sa.func.count()).select_from(table).where(_own_rows(table))
            ).scalar_one()
        ):
            raise CopyError(f"the target already has rows in {table.name} that no copy wrote")
    into, adapt = _insert_target(target, table)
    key = list(table.primary_key.columns)
    written = 0
    for rows in _batches(source, table, after, batch_size):
        marker = json.dumps([_jsonable(rows[-1][c.name]) for c in key])
        with target.transaction() as conn:
            conn.execute(into.insert(), [adapt(row) for row in rows])
            conn.execute(ingest_state.delete().where(ingest_state.c.key == _marker_key(table)))
            conn.execute(
                ingest_state.insert().values(
                    key=_marker_key(table), value=marker, updated_at=utcnow()
                )
            )
        written += len(rows)
        if on_progress:
            on_progress(len(rows))
    return written


def _reset_sequences(target: SqlStore, tables: list[sa.Table]) -> None:
    """Move PostgreSQL serial counters past the copied keys (SQLite needs nothing)."""
    if target.engine.dialect.name != "postgresql":
        return
    with target.transaction() as conn:
        for table in tables:
            key = list(table.primary_key.columns)
            if len(key) != 1 or not isinstance(key[0].type, sa.Integer) or key[0].foreign_keys:
                continue
            sequence = conn.exec_driver_sql(
                f"SELECT pg_get_serial_sequence('{table.name}', '{key[0].name}')"
            ).scalar()
            if sequence:
                conn.exec_driver_sql(
                    f"SELECT setval('{sequence}', coalesce(max({key[0].name}), 0) + 1, false) "
                    f"FROM {table.name}"
                )


def copy_store(
    source: SqlStore,
    target: SqlStore,
    *,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> CopyReport:
    """Copy everything from `source` into `target` (resuming an earlier copy), then compare
    the row counts. Raises CopyError when the target holds rows the copy did not write."""
    tables = copied_tables(source, target)
    report = CopyReport()
    for table in tables:
        report.copied[table.name] = copy_table(
            source, target, table, batch_size=batch_size, on_progress=on_progress
        )
        log.info("copied %d rows of %s", report.copied[table.name], table.name)
    _reset_sequences(target, tables)
    target.embeddings.rebuild_vector_indexes()
    source_counts, target_counts = count_rows(source, tables), count_rows(target, tables)
    report.counts = [
        TableCount(t.name, source_counts[t.name], target_counts[t.name]) for t in tables
    ]
    return report
