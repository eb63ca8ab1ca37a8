"""Where the feed stands, for `paperfeed status`, /admin/status and the feed's "Updated" line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperfeed.models import FollowedSource, SyncRun


def ago(then: dt.datetime, now: dt.datetime) -> str:
    """`then` as people say it: "just now", "5 minutes ago", "2 hours ago", "3 days ago"."""
    seconds = (now - then).total_seconds()
    if seconds < 0:
        return _span(-seconds, "in {}")
    if seconds < 60:
        return "just now"
    return _span(seconds, "{} ago")


def _span(seconds: float, form: str) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return form.format(f"{count} {unit}{'' if count == 1 else 's'}")
    return form.format("under a minute")


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class Freshness:
    """When a sync last brought the feed up to date."""

    at: dt.datetime
    now: dt.datetime

    @property
    def ago(self) -> str:
        return ago(self.at, self.now)


@dataclass(frozen=True, slots=True)
class DigestRun:
    """The latest digest date with messages planned, and how far its delivery got."""

    date: dt.date
    sent: int
    planned: int
    last_sent_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: FollowedSource
    last_run: SyncRun | None

    @property
    def state(self) -> str:
        """ "never synced", "ok", "running", or "failing (3 in a row, backing off)"."""
        if self.last_run is None:
            return "never synced"
        if self.last_run.status == "running":
            return "running"
        failures = self.source.failures
        if failures:
            return f"failing ({failures} in a row, backing off)"
        return "ok"

    def as_dict(self) -> dict[str, object]:
        source, run = self.source, self.last_run
        return {
            "id": source.id,
            "kind": source.kind,
            "value": source.value,
            "state": self.state,
            "cursor": source.cursor,
            "last_success": _iso(source.last_success_at),
            "last_error": source.last_error,
            "last_error_at": _iso(source.last_error_at),
            "failures_in_a_row": source.failures,
            "next_run": _iso(source.next_run_at),
            "papers_added": source.papers_added,
            "last_run": None
            if run is None
            else {
                "id": run.id,
                "status": run.status,
                "started": _iso(run.started_at),
                "finished": _iso(run.finished_at),
                "read": run.read,
                "new": run.new,
                "updated": run.updated,
                "on_feed": run.submissions,
                "error": run.error,
            },
        }


@dataclass(frozen=True, slots=True)
class SyncStatus:
    now: dt.datetime
    sources: list[SourceStatus]
    scheduled: bool  # whether `serve` syncs the sources by itself
    last_updated: dt.datetime | None
    waiting_for_embeddings: int
    keyword_backlog: int
    last_digest: DigestRun | None

    def as_dict(self) -> dict[str, object]:
        digest = self.last_digest
        return {
            "now": self.now.isoformat(),
            "scheduled": self.scheduled,
            "last_updated": _iso(self.last_updated),
            "sources": [s.as_dict() for s in self.sources],
            "waiting_for_embeddings": self.waiting_for_embeddings,
            "keyword_backlog": self.keyword_backlog,
            "last_digest": None
            if digest is None
            else {
                "date": digest.date.isoformat(),
                "sent": digest.sent,
                "planned": digest.planned,
                "last_sent_at": _iso(digest.last_sent_at),
            },
        }
