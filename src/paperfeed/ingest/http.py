"""A polite HTTP client for arXiv: a minimum delay between requests, Retry-After honoured,
transient failures retried, and one clear exception when it gives up."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Self

import httpx

from paperfeed.errors import Unavailable

log = logging.getLogger(__name__)

USER_AGENT = "paperfeed/0.1 (self-hosted daily papers; https://github.com/paperfeed)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Params = Mapping[str, str | int | float | None]


class FetchError(Unavailable):
    """A request that failed for good: after retries, or with a status that retrying cannot fix.

    ``status`` and ``body`` are set when the server answered (e.g. arXiv's 400 with an Atom error);
    ``code`` names a protocol-level error (e.g. the OAI-PMH code ``badResumptionToken``).
    """

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        body: bytes = b"",
        code: str | None = None,
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.body = body
        self.code = code


class PoliteClient:
    """GET with at least ``delay`` seconds between request starts (arXiv asks for 3 s).

    HTTP 429/5xx and connection errors are retried up to ``max_retries`` times; a Retry-After
    header (seconds or HTTP-date) sets the wait, otherwise ``backoff * 2**attempt``; every wait
    is capped at ``max_wait``. ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(
        self,
        *,
        delay: float = 3.0,
        max_retries: int = 3,
        max_wait: float = 300.0,
        backoff: float = 5.0,
        timeout: float = 60.0,
        user_agent: str = USER_AGENT,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.delay = delay
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._owns_client = client is None
        self._client = client or httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": user_agent}
        )
        self._last_request: float | None = None

    def get(self, url: str, params: Params | None = None) -> httpx.Response:
        """The response to a GET, or FetchError once retries are used up or the status is final."""
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        shown = str(httpx.URL(url, params=query))
        attempt = 0
        while True:
            self._wait_turn()
            status, body = None, b""
            wait: float | None
            try:
                response = self._client.get(url, params=query)
            except httpx.TransportError as error:
                reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                wait = self._backoff(attempt)
            else:
                if response.is_success:
                    return response
                status, body = response.status_code, response.content
                reason = f"HTTP {status}"
                if status not in RETRY_STATUSES:
                    raise FetchError(shown, reason, status=status, body=body)
                wait = self._retry_after(response)
                if wait is None:
                    wait = self._backoff(attempt)
            if attempt >= self.max_retries:
                reason = f"{reason}, gave up after {attempt + 1} attempts"
                raise FetchError(shown, reason, status=status, body=body)
            attempt += 1
            log.warning(
                "%s: %s; retry %d/%d in %.0f s", shown, reason, attempt, self.max_retries, wait
            )
            self._sleep(wait)

    def _wait_turn(self) -> None:
        now = self._clock()
        if self._last_request is not None:
            remaining = self.delay - (now - self._last_request)
            if remaining > 0:
                self._sleep(remaining)
                now = self._clock()
        self._last_request = now

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2**attempt, self.max_wait)

    def _retry_after(self, response: httpx.Response) -> float | None:
        seconds = parse_retry_after(response.headers.get("Retry-After"))
        return None if seconds is None else min(seconds, self.max_wait)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())
