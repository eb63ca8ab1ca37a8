"""Which digests a run given no date sends (`paperfeed digest send` without --date, the daily
scheduler of `serve`), and why, for the operator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperfeed.store import SqlStore


@dataclass(frozen=True, slots=True)
class DateChoice:
    """A date to send, and why: "2026-11-27, the latest day with papers (yesterday,
    2026-11-29, had none)"."""

    date: dt.date
    why: str


def default_dates(store: SqlStore, today: dt.date) -> list[DateChoice]:
    """Yesterday (UTC, the last complete day) when it has papers (submitted to the feed or
    first published that day); else the latest day with papers and, when the last Sunday up to
    yesterday ends that day's week, that Sunday too, whose weekly digests hold the week's
    papers; yesterday when no day has papers."""
    yesterday = today - dt.timedelta(days=1)
    days = (
        store.community.latest_day(on_or_before=yesterday),
        store.papers.latest_published_day(yesterday),
    )
    latest = max((d for d in days if d is not None), default=None)
    if latest == yesterday:
        return [DateChoice(yesterday, f"yesterday, {yesterday}")]
    if latest is None:
        return [DateChoice(yesterday, f"yesterday, {yesterday}: no day up to it has papers")]
    choices = [
        DateChoice(
            latest, f"{latest}, the latest day with papers (yesterday, {yesterday}, had none)"
        )
    ]
    sunday = yesterday - dt.timedelta(days=yesterday.isoweekday() % 7)
    if sunday - dt.timedelta(days=6) <= latest:
        choices.append(
            DateChoice(sunday, f"{sunday}, the Sunday ending that week, for its weekly digests")
        )
    return choices
