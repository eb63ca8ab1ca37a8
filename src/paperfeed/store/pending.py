"""Submissions waiting for their paper from arXiv (part of the community area:
``store.community.pending``); paperfeed.community.pending decides when to look them up again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.errors import Conflict
from paperfeed.models import PendingSubmission
from paperfeed.store import rows
from paperfeed.store.schema import metadata, pending_submissions

_TABLE = pending_submissions


def create_pending_table(conn: Connection) -> None:
    """Migration 9 on both backends."""
    metadata.create_all(conn, tables=[_TABLE])


class PendingSubmissionStore:
    """The ``pending_submissions`` table: one row per paper at most."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, pending: PendingSubmission) -> None:
        """Record `pending`; Conflict when the paper already waits."""
        values = {
            "paper_id": pending.paper_id,
            "user_id": pending.user_id,
            "day": pending.day,
            "submitted_at": rows.to_naive_utc(pending.submitted_at),
            "attempts": pending.attempts,
            "next_attempt_at": rows.to_naive_utc(pending.next_attempt_at or pending.submitted_at),
            "last_error": pending.last_error,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(_TABLE.insert().values(**values))
        except sa.exc.IntegrityError as error:
            raise Conflict(f"{pending.paper_id} was just submitted by someone else") from error

    def get(self, paper_id: str) -> PendingSubmission | None:
        with self.engine.connect() as conn:
            stmt = sa.select(_TABLE).where(_TABLE.c.paper_id == paper_id)
            row = conn.execute(stmt).mappings().first()
        return _from_row(row) if row else None

    def claim_due(
        self, now: dt.datetime, lease: dt.timedelta, limit: int = 20
    ) -> list[PendingSubmission]:
        """Up to `limit` entries due at `now`, oldest due first, each moved `lease` ahead so
        that the retriers of other processes leave it alone while this one looks it up."""
        naive_now = rows.to_naive_utc(now)
        claimed: list[PendingSubmission] = []
        with self.engine.begin() as conn:
            stmt = (
                sa.select(_TABLE)
                .where(_TABLE.c.next_attempt_at <= naive_now)
                .order_by(_TABLE.c.next_attempt_at)
                .limit(limit)
            )
            for row in conn.execute(stmt).mappings().all():
                taken = conn.execute(
                    _TABLE.update()
                    .where(
                        _TABLE.c.paper_id == row["paper_id"],
                        _TABLE.c.next_attempt_at == row["next_attempt_at"],
                    )
                    .values(next_attempt_at=rows.to_naive_utc(now + lease))
                )
                if taken.rowcount == 1:
                    claimed.append(_from_row(row))
        return claimed

    def reschedule(self, paper_id: str, next_attempt_at: dt.datetime, error: str) -> None:
        """One more failed lookup: count it and set the time of the next."""
        with self.engine.begin() as conn:
            conn.execute(
                _TABLE.update()
                .where(_TABLE.c.paper_id == paper_id)
                .values(
                    attempts=_TABLE.c.attempts + 1,
                    next_attempt_at=rows.to_naive_utc(next_attempt_at),
                    last_error=error,
                )
            )

    def remove(self, paper_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(_TABLE.delete().where(_TABLE.c.paper_id == paper_id))


def _from_row(row: Mapping[Any, Any]) -> PendingSubmission:
    day, submitted_at = rows.as_date(row["day"]), rows.from_naive_utc(row["submitted_at"])
    assert day is not None and submitted_at is not None  # NOT NULL columns
    return PendingSubmission(
        paper_id=row["paper_id"],
        day=day,
        submitted_at=submitted_at,
        user_id=row["user_id"],
        attempts=row["attempts"],
        next_attempt_at=rows.from_naive_utc(row["next_attempt_at"]),
        last_error=row["last_error"],
    )
