"""When `serve` syncs each followed source, and how it backs off when a source fails.

arXiv announces once a day (20:00 New York time, Sunday to Thursday): arXiv sources run daily at
``settings.arxiv_sync_hour`` in ``settings.arxiv_sync_timezone``. Hugging Face's daily list grows
all day: hf-daily runs every ``settings.hf_sync_minutes`` within ``settings.hf_sync_hours`` (UTC).
A failed run is retried after 5 minutes, doubling with each failure in a row up to 2 hours (never
later than its regular time). Each run stores its source's next time, so every process (and
the status page) agrees on it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paperfeed.config import Settings
from paperfeed.errors import Invalid

log = logging.getLogger(__name__)

RETRY_FIRST = dt.timedelta(minutes=5)
RETRY_MAX = dt.timedelta(hours=2)
_HOURS = re.compile(r"^\s*(\d{1,2})\s*-\s*(\d{1,2})\s*$")


@dataclass(frozen=True, slots=True)
class Schedule:
    arxiv_hour: int
    arxiv_zone: ZoneInfo
    hf_every: dt.timedelta
    hf_hours: tuple[int, int]  # first and last UTC hour of the day during which HF is synced

    @classmethod
    def from_settings(cls, settings: Settings) -> Schedule:
        """The deployment's schedule; Invalid naming the variable that is wrong."""
        if not 0 <= settings.arxiv_sync_hour <= 23:
            raise Invalid("PAPERFEED_ARXIV_SYNC_HOUR must be between 0 and 23")
        try:
            zone = ZoneInfo(settings.arxiv_sync_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                "PAPERFEED_ARXIV_SYNC_TIMEZONE must be a time zone name such as "
                f"America/New_York, got {settings.arxiv_sync_timezone!r}"
            ) from None
        if settings.hf_sync_minutes < 1:
            raise Invalid("PAPERFEED_HF_SYNC_MINUTES must be 1 or more")
        match = _HOURS.match(settings.hf_sync_hours)
        first, last = (int(match[1]), int(match[2])) if match else (-1, -1)
        if not 0 <= first <= last <= 23:
            raise Invalid(
                "PAPERFEED_HF_SYNC_HOURS must be two UTC hours first-last, such as 6-22, "
                f"got {settings.hf_sync_hours!r}"
            )
        if settings.sync_first_days < 1:
            raise Invalid("PAPERFEED_SYNC_FIRST_DAYS must be 1 or more")
        every = dt.timedelta(minutes=settings.hf_sync_minutes)
        return cls(settings.arxiv_sync_hour, zone, every, (first, last))

    def next_run(self, kind: str, after: dt.datetime) -> dt.datetime:
        """The regular time of a source's next run after `after` (aware, UTC)."""
        if kind == "hf-daily":
            return self._next_hf(after)
        local = after.astimezone(self.arxiv_zone)
        day = local.date() if local.hour < self.arxiv_hour else local.date() + dt.timedelta(1)
        at = dt.datetime(day.year, day.month, day.day, self.arxiv_hour, tzinfo=self.arxiv_zone)
        return at.astimezone(dt.UTC)

    def _next_hf(self, after: dt.datetime) -> dt.datetime:
        first, last = self.hf_hours
        candidate = after.astimezone(dt.UTC) + self.hf_every
        if first <= candidate.hour <= last:
            return candidate
        day = candidate.date() if candidate.hour < first else candidate.date() + dt.timedelta(1)
        return dt.datetime(day.year, day.month, day.day, first, tzinfo=dt.UTC)

    def retry_at(self, kind: str, failures: int, after: dt.datetime) -> dt.datetime:
        """When to try again after `failures` failed runs in a row (exponential, capped)."""
        wait = min(RETRY_FIRST * 2 ** max(failures - 1, 0), RETRY_MAX)
        return min(after + wait, self.next_run(kind, after))


class SyncScheduler:
    """Calls `run` (a sync of the due sources) whenever `due` says some are due, polling every
    `poll_seconds` from a daemon thread; a run that fails is logged and the next poll goes on."""

    def __init__(
        self, due: Callable[[], bool], run: Callable[[], object], *, poll_seconds: float = 60.0
    ) -> None:
        self._due = due
        self._run = run
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pending(self) -> bool:
        """Run the due sources now, if any; whether it ran."""
        if not self._due():
            return False
        self._run()
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:  # keep the scheduler alive; the next poll retries
                log.exception("scheduled sync failed")
            self._stop.wait(self._poll)

    def start(self) -> SyncScheduler:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="sync-scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
