"""Rate limits of the web app: sliding windows counted per key in this process."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from paperfeed.errors import RateLimited


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


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limits the app applies; tests pass smaller ones."""

    votes: Limit = Limit(60, 60)
    submissions: Limit = Limit(10, 3600)
    logins: Limit = Limit(10, 300)
    signups: Limit = Limit(5, 3600)


class Limiters:
    def __init__(self, limits: RateLimits) -> None:
        self.votes: RateLimiter = SlidingWindowLimiter(limits.votes)
        self.submissions: RateLimiter = SlidingWindowLimiter(limits.submissions)
        self.logins: RateLimiter = SlidingWindowLimiter(limits.logins)
        self.signups: RateLimiter = SlidingWindowLimiter(limits.signups)
