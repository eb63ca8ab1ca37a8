"""Cache hits answered in front of the framework.

A GET of a cached path (web/page_cache.py) whose entry is fresh is answered here, before
FastAPI's middleware stack and routing, when nothing per request needs them: the answer is the
same for everyone (API listings, feeds, markdown), or the reader is a visitor whose signed
session cookie already holds a CSRF token (filled in as web/personal.py does). Everything else
(a miss, a signed-in reader, a first visit, which makes the token, a HEAD, a content version
due for a read) goes through the stack, whose PageCacheMiddleware renders and keeps the entry.
While hits come, the content version is read again in the background once half its check
interval has passed, so that they do not wait for the read (nor crowd into the stack meanwhile).

The answer is the one the stack would give: the same status, body and headers, the security
headers too; uvicorn writes its access log line for it as for any other answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from base64 import b64decode
from collections.abc import Callable

import itsdangerous
from cachetools import LRUCache
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from paperfeed.core import PaperFeed
from paperfeed.errors import PaperfeedError
from paperfeed.web.deps import SESSION_COOKIE, SESSION_MAX_AGE
from paperfeed.web.errors import answer_error
from paperfeed.web.headers import SECURITY_HEADER_LIST, SecurityHeadersMiddleware
from paperfeed.web.login_cookie import LOGIN_COOKIE
from paperfeed.web.page_cache import (
    EVERYONE,
    VISITOR,
    Entries,
    Entry,
    Rule,
    answer_entry,
    fresh_entry,
    rule_for,
    send_answer,
)

log = logging.getLogger(__name__)

REMEMBERED_COOKIES = 10_000  # visitors whose session cookie's signature was checked (~3 MB)


class ClockedSigner(itsdangerous.TimestampSigner):
    """A TimestampSigner that reads the time from `clock` (tests move it)."""

    def __init__(self, secret_key: str, clock: Callable[[], float]) -> None:
        super().__init__(secret_key)
        self.clock = clock

    def get_timestamp(self) -> int:
        return int(self.clock())


class VisitorTokens:
    """A visitor's CSRF token from the session cookie, read as SessionMiddleware reads it
    (the same signer, secret and age limit); the cookies of recent visitors are remembered
    with their token and signing time, so their signature is checked once."""

    def __init__(
        self,
        secret_key: str,
        max_age: int = SESSION_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signer = ClockedSigner(secret_key, clock)
        self.max_age = max_age
        self.clock = clock
        self._known: LRUCache[str, tuple[str, float]] = LRUCache(REMEMBERED_COOKIES)

    def csrf(self, cookie: str) -> str | None:
        """The token the cookie holds; None when it holds none or its signature is bad or
        too old (the stack then answers, as it answers a first visit)."""
        known = self._known.get(cookie)
        if known is not None and self.clock() - known[1] <= self.max_age:
            return known[0]
        try:
            data, signed = self.signer.unsign(
                cookie.encode(), max_age=self.max_age, return_timestamp=True
            )
            session = json.loads(b64decode(data))
        except (itsdangerous.BadSignature, ValueError):
            return None
        token = session.get("csrf") if isinstance(session, dict) else None
        if not isinstance(token, str) or not token:
            return None
        self._known[cookie] = (token, signed.timestamp())
        return token


class PageCacheFront:
    """Answers the cache hits described in the module docstring; passes the rest to `app`
    (the web app's whole middleware stack)."""

    def __init__(
        self, app: ASGIApp, web_app: Starlette, entries: Entries, tokens: VisitorTokens
    ) -> None:
        self.app = app
        self.web_app = web_app
        self.entries = entries
        self.tokens = tokens
        self._version_read: asyncio.Future[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hit = self._hit(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        if hit is None:
            await self.app(scope, receive, send)
            return
        entry, rule, csrf = hit
        scope["app"] = self.web_app  # what Request.app reads (Starlette sets it further in)
        request = Request(scope, receive)
        if rule.admit is not None:
            try:
                rule.admit(request)
            except PaperfeedError as error:
                answer = SecurityHeadersMiddleware(answer_error(request, error))
                await answer(scope, receive, send)
                return
        personal = rule.members != "same"
        status, headers, body = answer_entry(
            entry, request.headers, personal, csrf, None, voted=set()
        )
        await send_answer(send, status, [*headers, *SECURITY_HEADER_LIST], body)

    def _hit(self, scope: Scope) -> tuple[Entry, Rule, str] | None:
        """The fresh entry, its rule and the visitor's CSRF token ("" for answers the same
        for everyone) when this request may be answered here."""
        rule = rule_for(scope["path"])
        if rule is None:
            return None
        csrf, reader = "", EVERYONE
        if rule.members != "same":
            cookies = cookie_parser(Headers(scope=scope).get("cookie", ""))
            session = cookies.get(SESSION_COOKIE)
            if cookies.get(LOGIN_COOKIE) or not session:
                return None
            found = self.tokens.csrf(session)
            if found is None:
                return None
            csrf, reader = found, VISITOR
        feed: PaperFeed = self.web_app.state.feed
        settings = feed.settings
        version = feed.content_versions.known(settings.page_cache_check_seconds)
        if version is None:
            return None
        self._read_version_when_due(feed)
        key = (reader, scope["path"], scope["query_string"])
        entry = fresh_entry(self.entries, key, version.number, settings.page_cache_seconds)
        return None if entry is None else (entry, rule, csrf)

    def _read_version_when_due(self, feed: PaperFeed) -> None:
        versions, check = feed.content_versions, feed.settings.page_cache_check_seconds
        if versions.known(check / 2) is None and (
            self._version_read is None or self._version_read.done()
        ):
            self._version_read = asyncio.ensure_future(_read_version(feed))


async def _read_version(feed: PaperFeed) -> None:
    try:
        await run_in_threadpool(feed.content_versions.current, 0.0)  # 0: read now
    except Exception:  # the next request past the check interval reads (and answers) it
        log.exception("reading the content version failed")
