"""Rate limits of the web app: sliding windows counted per key in this process."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from paperfeed.errors import Invalid, RateLimited
from paperfeed.readers.library import MAX_LIBRARY_BYTES

# Request bodies are limited to ``settings.max_body_bytes`` (the app's max_body_size); a library
# upload (/library/import) may be a file of up to MAX_LIBRARY_BYTES with the form around it.
LIBRARY_UPLOAD_BYTES = MAX_LIBRARY_BYTES + 64 * 1024


class RateLimiter(Protocol):
    """Counts actions per key; ``hit`` raises RateLimited once a key is over its limit."""

    def hit(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    seconds: float

    def describe(self) -> str:
        minutes = self.seconds / 60
        period = f"{minutes:g} minutes" if minutes != 1 else "minute"
        return f"{self.count} per {period}"


class SlidingWindowLimiter:
    """In-process sliding-window limiter: at most ``limit.count`` hits per key in any window of
    ``limit.seconds``. Enough for one server process (the SQLite deployment)."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.limit.seconds:
                hits.popleft()
            if len(hits) >= self.limit.count:
                retry = hits[0] + self.limit.seconds - now
                raise RateLimited(
                    f"too many requests ({self.limit.describe()}): try again in {retry:.0f} s"
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys now and then
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.limit.seconds]:
            del self._hits[key]


class NoLimit:
    """A limiter that lets everything through (a limit switched off)."""

    def hit(self, key: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limits the app applies; tests pass smaller ones. `api` (None: no limit) counts the
    JSON API's and the MCP endpoint's requests per client address."""

    votes: Limit = Limit(60, 60)
    submissions: Limit = Limit(10, 3600)
    logins: Limit = Limit(10, 300)
    signups: Limit = Limit(5, 3600)
    libraries: Limit = Limit(20, 3600)  # library imports and visitors' /for-you lists
    api: Limit | None = Limit(600, 60)

    @classmethod
    def for_api_requests_per_minute(cls, per_minute: int) -> RateLimits:
        """The default limits with `per_minute` API requests (``PAPERFEED_API_REQUESTS_PER_MINUTE``;
        0: no limit)."""
        if per_minute < 0:
            raise Invalid("PAPERFEED_API_REQUESTS_PER_MINUTE must be 0 or more")
        return cls(api=Limit(per_minute, 60) if per_minute else None)


class Limiters:
    def __init__(self, limits: RateLimits) -> None:
        self.votes: RateLimiter = SlidingWindowLimiter(limits.votes)
        self.submissions: RateLimiter = SlidingWindowLimiter(limits.submissions)
        self.logins: RateLimiter = SlidingWindowLimiter(limits.logins)
        self.signups: RateLimiter = SlidingWindowLimiter(limits.signups)
        self.libraries: RateLimiter = SlidingWindowLimiter(limits.libraries)
        self.api: RateLimiter = SlidingWindowLimiter(limits.api) if limits.api else NoLimit()
