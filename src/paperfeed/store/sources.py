"""The followed-sources area of the store (``store.sources``): the sources the feed fills itself
from, each with its saved position, and one row per sync of a source (migration 10).
paperfeed.sync decides what to fetch and when; this module only keeps the rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.errors import Conflict, NotFound
from paperfeed.models import RUN_FAILED, RUN_OK, RUN_RUNNING, FollowedSource, SyncRun
from paperfeed.store import rows
from paperfeed.store.schema import metadata

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # arxiv | arxiv-query | hf-daily
    sa.Column("value", sa.String(512), nullable=False),  # category, query; "" for hf-daily
    sa.Column("cursor", sa.String(64)),  # the last day fetched, saved after its import commits
    sa.Column("added_at", sa.DateTime, nullable=False),
    sa.Column("last_success_at", sa.DateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", sa.DateTime),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),  # in a row
    sa.Column("next_run_at", sa.DateTime),  # the scheduler's next run (NULL: due now)
    sa.UniqueConstraint("kind", "value", name="uq_sources_kind_value"),
)

sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.String(16), nullable=False),  # running | ok | failed
    sa.Column("read", sa.Integer, nullable=False, server_default="0"),
    sa.Column("new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("submissions", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Index("ix_sync_runs_source", "source_id", "id"),
    sa.Index("ix_sync_runs_status_finished", "status", "finished_at"),
)

INTERRUPTED = "interrupted: the process stopped during the run"


def create_sync_tables(conn: Connection) -> None:
    """Migration 10 on both backends."""
    metadata.create_all(conn, tables=[sources, sync_runs])


class SourceStore:
    """The ``sources`` and ``sync_runs`` tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- sources -----------------------------------------------------------------------------

    def add(self, kind: str, value: str, now: dt.datetime) -> FollowedSource:
        """Follow a (validated) source; Conflict when it is followed already."""
        with self.engine.begin() as conn:
            existing = conn.execute(
                sa.select(sources.c.id).where(sources.c.kind == kind, sources.c.value == value)
            ).scalar()
            if existing is not None:
                raise Conflict(f"{kind} {value} is followed already (source {existing})".strip())
            values = {"kind": kind, "value": value, "added_at": rows.to_naive_utc(now)}
            inserted = conn.execute(sources.insert().values(**values)).inserted_primary_key
        assert inserted is not None
        return self.get(int(inserted[0]))

    def all(self) -> list[FollowedSource]:
        with self.engine.connect() as conn:
            return [
                _source(row) for row in conn.execute(_with_papers_added().order_by(sources.c.id))
            ]

    def get(self, source_id: int) -> FollowedSource:
        with self.engine.connect() as conn:
            row = conn.execute(_with_papers_added().where(sources.c.id == source_id)).first()
        if row is None:
            raise NotFound(f"no followed source {source_id} (paperfeed sources list shows them)")
        return _source(row)

    def remove(self, source_id: int) -> FollowedSource:
        """Stop following a source (its run history goes with it); NotFound when unknown."""
        source = self.get(source_id)
        with self.engine.begin() as conn:
            conn.execute(sync_runs.delete().where(sync_runs.c.source_id == source_id))
            conn.execute(sources.delete().where(sources.c.id == source_id))
        return source

    def save_cursor(self, source_id: int, cursor: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sources.update().where(sources.c.id == source_id).values(cursor=cursor))

    def due(self, now: dt.datetime) -> list[FollowedSource]:
        """The sources whose next run has come (or was never planned)."""
        naive = rows.to_naive_utc(now)
        when = sa.or_(sources.c.next_run_at.is_(None), sources.c.next_run_at <= naive)
        with self.engine.connect() as conn:
            found = conn.execute(_with_papers_added().where(when).order_by(sources.c.id))
            return [_source(row) for row in found]

    def plan_next_run(self, source_id: int, when: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sources.update()
                .where(sources.c.id == source_id)
                .values(next_run_at=rows.to_naive_utc(when))
            )

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, source_id: int, now: dt.datetime) -> int:
        values = {"source_id": source_id, "started_at": rows.to_naive_utc(now)}
        with self.engine.begin() as conn:
            inserted = conn.execute(
                sync_runs.insert().values(status=RUN_RUNNING, **values)
            ).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])

    def finish_run(
        self,
        run_id: int,
        now: dt.datetime,
        *,
        counts: Mapping[str, int],
        error: str | None = None,
        next_run_at: dt.datetime | None = None,
    ) -> None:
        """End a run (failed when `error` is given) and note it on its source, with the time
        of the source's next scheduled run. `counts`: read, new, updated, submissions."""
        naive = rows.to_naive_utc(now)
        status = RUN_OK if error is None else RUN_FAILED
        known = {k: int(counts.get(k, 0)) for k in ("read", "new", "updated", "submissions")}
        with self.engine.begin() as conn:
            source_id = conn.execute(
                sa.select(sync_runs.c.source_id).where(sync_runs.c.id == run_id)
            ).scalar_one()
            conn.execute(
                sync_runs.update()
                .where(sync_runs.c.id == run_id)
                .values(status=status, finished_at=naive, error=error, **known)
            )
            if error is None:
                outcome: dict[str, Any] = {"last_success_at": naive, "failures": 0}
            else:
                outcome = {
                    "last_error": error,
                    "last_error_at": naive,
                    "failures": sources.c.failures + 1,
                }
            conn.execute(
                sources.update()
                .where(sources.c.id == source_id)
                .values(next_run_at=rows.to_naive_utc(next_run_at), **outcome)
            )

    def abandon_running(self, now: dt.datetime) -> int:
        """Mark the runs still "running" as failed (their process died: call this only while
        holding the sync lock); returns how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                sync_runs.update()
                .where(sync_runs.c.status == RUN_RUNNING)
                .values(status=RUN_FAILED, finished_at=rows.to_naive_utc(now), error=INTERRUPTED)
            )
            return int(result.rowcount)

    def runs(self, source_id: int | None = None, limit: int = 20) -> list[SyncRun]:
        """The latest runs, newest first (of one source, if given)."""
        stmt = sa.select(sync_runs).order_by(sync_runs.c.id.desc()).limit(limit)
        if source_id is not None:
            stmt = stmt.where(sync_runs.c.source_id == source_id)
        with self.engine.connect() as conn:
            return [_run(row) for row in conn.execute(stmt).mappings()]

    def latest_runs(self) -> dict[int, SyncRun]:
        """The latest run of each source, by source id."""
        latest = sa.select(sa.func.max(sync_runs.c.id)).group_by(sync_runs.c.source_id)
        stmt = sa.select(sync_runs).where(sync_runs.c.id.in_(latest.scalar_subquery()))
        with self.engine.connect() as conn:
            return {run.source_id: run for run in map(_run, conn.execute(stmt).mappings())}

    def last_success(self) -> dt.datetime | None:
        """When a sync of any source last ended well: the feed's "updated" time."""
        stmt = sa.select(sa.func.max(sync_runs.c.finished_at)).where(sync_runs.c.status == RUN_OK)
        with self.engine.connect() as conn:
            return rows.from_naive_utc(conn.execute(stmt).scalar())


def _with_papers_added() -> sa.Select[Any]:
    added = (
        sa.select(sa.func.coalesce(sa.func.sum(sync_runs.c.new), 0))
        .where(sync_runs.c.source_id == sources.c.id)
        .scalar_subquery()
    )
    return sa.select(sources, added.label("papers_added"))


def _source(row: Any) -> FollowedSource:
    values = row._mapping
    added_at = rows.from_naive_utc(values["added_at"])
    return FollowedSource(
        id=values["id"],
        kind=values["kind"],
        value=values["value"],
        cursor=values["cursor"],
        added_at=added_at,
        last_success_at=rows.from_naive_utc(values["last_success_at"]),
        last_error=values["last_error"],
        last_error_at=rows.from_naive_utc(values["last_error_at"]),
        failures=values["failures"],
        next_run_at=rows.from_naive_utc(values["next_run_at"]),
        papers_added=int(values["papers_added"]),
    )


def _run(values: Mapping[Any, Any]) -> SyncRun:
    started_at = rows.from_naive_utc(values["started_at"])
    assert started_at is not None  # NOT NULL
    return SyncRun(
        id=values["id"],
        source_id=values["source_id"],
        started_at=started_at,
        status=values["status"],
        finished_at=rows.from_naive_utc(values["finished_at"]),
        read=values["read"],
        new=values["new"],
        updated=values["updated"],
        submissions=values["submissions"],
        error=values["error"],
    )
