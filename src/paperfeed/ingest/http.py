"""A polite HTTP client for arXiv: a minimum delay between requests, Retry-After honoured,
transient failures retried, and one clear exception when it gives up."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
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
    ``code`` names a protocol-level error (e.g. the OAI-PMH code ``badResumptionToken``);
    ``retry_after`` is the wait before the next try the client gave up on (Retry-After or back-off).
    """

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        body: bytes = b"",
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.body = body
        self.code = code
        self.retry_after = retry_after


class PoliteClient:
    """GET with at least ``delay`` seconds between request starts (arXiv asks for 3 s).

    HTTP 429/5xx and connection errors are retried up to ``max_retries`` times; a Retry-After
    header (seconds or HTTP-date) sets the wait, otherwise ``backoff * 2**attempt``; every wait
    is capped at ``max_wait``. Inside ``with client.deadline(seconds):`` the requests of the
    block end within that many seconds of its first one, retries, waits and bodies included.
    ``sleep`` and ``clock`` are injectable for tests.
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
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._owns_client = client is None
        self._client = client or httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": user_agent}
        )
        self._last_request: float | None = None
        self._deadline: float | None = None  # seconds, while a deadline() block runs
        self._give_up_at: float | None = None  # clock time, from the block's first request on

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Every request inside the block ends within `seconds` of the block's first request
        (the delay before that one does not count): timeouts are what is left, a body that
        trickles in is cut, and a wait that would pass the deadline (a long Retry-After, a
        back-off) gives up at once with FetchError, whose ``retry_after`` says the wait."""
        self._deadline, self._give_up_at = seconds, None
        try:
            yield
        finally:
            self._deadline = self._give_up_at = None

    def get(self, url: str, params: Params | None = None) -> httpx.Response:
        """The response to a GET, or FetchError once retries are used up or the status is final."""
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        shown = str(httpx.URL(url, params=query))
        attempt = 0
        while True:
            self._wait_turn(shown, self._give_up_at)
            if self._deadline is not None and self._give_up_at is None:
                self._give_up_at = self._clock() + self._deadline
            give_up_at = self._give_up_at
            status, body = None, b""
            wait: float | None
            try:
                response = self._send(url, query, give_up_at)
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
                raise FetchError(shown, reason, status=status, body=body, retry_after=wait)
            if self._past(give_up_at, wait):
                reason = f"{reason}; a retry in {wait:.0f} s would pass the deadline"
                raise FetchError(shown, reason, status=status, body=body, retry_after=wait)
            attempt += 1
            log.warning(
                "%s: %s; retry %d/%d in %.0f s", shown, reason, attempt, self.max_retries, wait
            )
            self._sleep(wait)

    def _send(self, url: str, query: dict[str, str], give_up_at: float | None) -> httpx.Response:
        if give_up_at is None:
            return self._client.get(url, params=query)
        # Within a deadline: each timeout is what is left of it, and the body is read in pieces
        # so that a server trickling it out cannot hold the caller past the deadline either.
        timeout = min(self.timeout, max(give_up_at - self._clock(), 0.001))
        with self._client.stream("GET", url, params=query, timeout=timeout) as response:
            body = bytearray()
            for chunk in response.iter_raw():
                body += chunk
                if self._clock() > give_up_at:
                    raise httpx.ReadTimeout("the deadline passed", request=response.request)
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                content=bytes(body),
                request=response.request,
            )

    def _past(self, give_up_at: float | None, wait: float) -> bool:
        """Whether waiting `wait` seconds now would end past the deadline."""
        return give_up_at is not None and self._clock() + wait > give_up_at

    def _wait_turn(self, shown: str, give_up_at: float | None) -> None:
        now = self._clock()
        if self._last_request is not None:
            remaining = self.delay - (now - self._last_request)
            if remaining > 0:
                if self._past(give_up_at, remaining):
                    reason = f"the next request in {remaining:.1f} s would pass the deadline"
                    raise FetchError(shown, reason, retry_after=remaining)
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
