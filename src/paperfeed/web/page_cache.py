"""The page cache: list pages, paper pages, the API listings and the Atom feeds answered from
memory while nothing they show has changed, with ETag / Last-Modified and 304s.

An entry is keyed by the URL (path and query string) and by who reads it (everyone, visitors,
signed-in readers, or one signed-in session), and stamped with the store's content version
(store/content_version.py: triggers move it in the same transaction as every vote, submission,
hiding, import, sync or index change, from any process). It is used while the version is the
same and it is younger than ``settings.page_cache_seconds`` (trending ages and the default day
move with the clock). A worker reads the version at most every
``settings.page_cache_check_seconds``, and at once after a change of its own.

Neither a change made by another process (a sync, another worker's vote) nor an entry's age
makes the next reader wait for the render: an entry that was answered as current less than
STALE_SECONDS ago answers once more while the page is rendered again behind it
(stale-while-revalidate). A change of this process's own (a reader's vote here) is rendered
before the next answer.

Personal bits never travel between readers: pages are rendered once *for nobody* (a shared
render, web/personal.py) and each reader's CSRF token, name and votes are filled in per
request; pages that hold more of a reader (a paper page's collections) are kept per session;
administrators, who see hidden papers, are never served from the cache.

Most hits never reach this middleware: web/page_front.py answers them in front of the
framework from the same entries.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from cachetools import LRUCache
from isal import igzip
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.core import PaperFeed
from paperfeed.errors import PaperfeedError
from paperfeed.models import User
from paperfeed.store.content_version import ContentVersion
from paperfeed.web import deps
from paperfeed.web.errors import answer_error
from paperfeed.web.login_cookie import login_cookie
from paperfeed.web.personal import SCOPE_KEY, SharedPage, SharedRender

log = logging.getLogger(__name__)

CACHE_BYTES = 64 * 2**20  # per worker
GZIP_FROM = 1024  # smaller bodies go as they are
GZIP_LEVEL = 6  # bodies compressed once per entry (and by GZipMiddleware)
# Filled-in pages are compressed per request by ISA-L (isal): its level 1 is ~10x faster than
# zlib's and as small (a 60 kB page: ~80 us against ~770 us, bench/web_load.py's /trending).
GZIP_LEVEL_PER_READER = 1
# Response headers a cached answer keeps from the route (the rest the cache writes itself).
KEPT_HEADERS = {b"content-type", b"content-language", b"link", b"x-robots-tag"}
# An entry answered as current this recently still answers while its page is rendered again
# after another process's change or past its age (so what it misses changed at most this plus
# the check interval ago, and it outlives settings.page_cache_seconds by at most this).
STALE_SECONDS = 3.0

Members = Literal["same", "shared", "own"]
EVERYONE, VISITOR = "all", "visitor"  # the reader part of the keys of answers to many readers


@dataclass(frozen=True, slots=True)
class Rule:
    """Paths answered from the cache. `members`: "same" (one answer for everyone, nothing
    personal), "shared" (one render for visitors and one for signed-in readers, filled in per
    reader) or "own" (visitors share one render, each signed-in session has its own).
    `admit` runs for every request as the route's own dependencies would (rate limits)."""

    pattern: re.Pattern[str]
    members: Members
    admit: Callable[[Request], None] | None = None


RULES = (
    Rule(re.compile(r"/papers/.+\.md"), "same", admit=deps.check_api_rate),  # an API route
    Rule(re.compile(r"/|/trending|/search"), "shared"),
    Rule(re.compile(r"/papers/.+"), "own"),
    Rule(re.compile(r"/api/(daily_papers|papers/.+)"), "same", admit=deps.check_api_rate),
    Rule(re.compile(r"/feeds/.+\.atom"), "same"),
)


def rule_for(path: str) -> Rule | None:
    return next((rule for rule in RULES if rule.pattern.fullmatch(path)), None)


@dataclass(slots=True)
class Entry:
    """One cached answer: the body as is, or a shared render to fill per reader."""

    version: int
    born: float  # time.monotonic() of the render
    headers: list[tuple[bytes, bytes]]
    body: bytes
    page: SharedPage | None
    tag: str  # digest of the render
    modified: float  # when the content version last moved (epoch seconds)
    last_modified: bytes  # `modified` as the header says it
    gzipped: bytes | None = field(default=None)
    current_at: float = field(default_factory=time.monotonic)  # last found current

    def size(self) -> int:
        return 2 * len(self.body) + len(self.gzipped or b"") + 512


@dataclass(frozen=True, slots=True)
class Reader:
    """Who asks: the cache key's reader part, the signed-in user (None: a visitor) and
    whether pages are rendered for nobody and filled in."""

    key: str
    user: User | None
    shared: bool


Key = tuple[str, str, bytes]
Entries = LRUCache[Key, Entry]


def new_entries() -> Entries:
    """The cache of one worker: entries up to CACHE_BYTES, least recently used out first."""
    return LRUCache(CACHE_BYTES, getsizeof=Entry.size)


def fresh_entry(entries: Entries, key: Key, version: int, max_age: float) -> Entry | None:
    """The entry of `key` if it was rendered at content version `version` less than `max_age`
    seconds ago."""
    entry = entries.get(key)
    now = time.monotonic()
    if entry is None or entry.version != version or now - entry.born >= max_age:
        return None
    entry.current_at = now
    return entry


def stale_entry(entries: Entries, key: Key) -> Entry | None:
    """The entry of `key` (of an older content version, or past its age) if it was answered
    as current less than STALE_SECONDS ago."""
    entry = entries.get(key)
    if entry is None or time.monotonic() - entry.current_at >= STALE_SECONDS:
        return None
    return entry


class PageCacheMiddleware:
    """Answers GET requests of the RULES paths from the cache (see the module docstring); it
    sits inside the session and log-in cookie middleware, whose state it reads."""

    def __init__(self, app: ASGIApp, entries: Entries) -> None:
        self.app = app
        self.entries = entries
        self._renders: dict[Key, asyncio.Future[Entry | None]] = {}
        self._behind: set[asyncio.Task[Entry | None]] = set()  # renders no request waits for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = rule_for(scope["path"]) if scope["type"] == "http" else None
        if rule is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        reader = await self._reader(request, rule)
        if reader is None:  # an administrator: hidden papers and moderation forms
            await self.app(scope, receive, send)
            return
        feed: PaperFeed = scope["app"].state.feed
        version = await self._version(feed)
        key = (reader.key, scope["path"], scope["query_string"])
        entry = fresh_entry(self.entries, key, version.number, feed.settings.page_cache_seconds)
        stale = None
        if entry is None and not feed.content_versions.changed_here():
            stale = entry = stale_entry(self.entries, key)
        if entry is not None and rule.admit is not None:  # (a render runs the route's own)
            try:
                rule.admit(request)
            except PaperfeedError as error:
                await answer_error(request, error)(scope, receive, send)
                return
        if stale is not None:
            self._render_behind(key, scope, reader, version, feed)
        if entry is None:
            entry = await self._render(key, scope, receive, send, reader, version, feed)
            if entry is None:  # not a 200: answered as it came
                return
        await self._answer(entry, request, reader, rule, send)

    # -- who reads, which version --------------------------------------------------------------

    async def _reader(self, request: Request, rule: Rule) -> Reader | None:
        if rule.members == "same":
            return Reader(EVERYONE, None, shared=False)
        login = None
        if login_cookie(request).token:  # a session lookup: a query
            login = await run_in_threadpool(deps.current_login, request)
        if login is None:
            return Reader(VISITOR, None, shared=True)
        session, user = login
        if user.is_admin:
            return None
        if rule.members == "shared":
            return Reader("member", user, shared=True)
        own = hashlib.blake2b(session.csrf.encode(), digest_size=12).hexdigest()
        return Reader(f"session:{own}", user, shared=False)

    @staticmethod
    async def _version(feed: PaperFeed) -> ContentVersion:
        versions, check = feed.content_versions, feed.settings.page_cache_check_seconds
        known = versions.known(check)
        return known if known is not None else await run_in_threadpool(versions.current, check)

    # -- rendering -------------------------------------------------------------------------------

    async def _render(
        self,
        key: Key,
        scope: Scope,
        receive: Receive,
        send: Send,
        reader: Reader,
        version: ContentVersion,
        feed: PaperFeed,
    ) -> Entry | None:
        """The entry for `key`, rendered by the app (once for all requests waiting for the
        same key); None after answering a response that is not a 200 as it came."""
        waiting = self._renders.get(key)
        if waiting is not None:
            entry = await asyncio.shield(waiting)
            if entry is not None:
                return entry
        done: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        self._renders.setdefault(key, done)
        entry = None
        try:
            shared = SharedRender.new(signed_in=reader.user is not None) if reader.shared else None
            status, headers, body = await _capture(self.app, scope, receive, shared)
            page = SharedPage.parse(body, shared) if shared is not None else None
            if status != 200:
                if page is not None:
                    body = page.fill(*_bits(scope, reader), voted=set())
                await send_answer(send, status, headers, body)
                return None
            entry = Entry(
                version=version.number,
                born=time.monotonic(),
                headers=[(k, v) for k, v in headers if k.lower() in KEPT_HEADERS],
                body=body,
                page=page,
                tag=hashlib.blake2b(body, digest_size=12).hexdigest(),
                modified=version.changed_at,
                last_modified=email.utils.formatdate(version.changed_at, usegmt=True).encode(),
            )
            if feed.settings.page_cache_seconds > 0 and entry.size() <= CACHE_BYTES // 8:
                self.entries[key] = entry
            return entry
        finally:
            done.set_result(entry)
            if self._renders.get(key) is done:
                del self._renders[key]

    def _render_behind(
        self, key: Key, scope: Scope, reader: Reader, version: ContentVersion, feed: PaperFeed
    ) -> None:
        """Render `key` again without a request waiting (unless a render of it runs)."""
        if key in self._renders:
            return

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def dropped(_message: Message) -> None:
            """A render that is not a 200 answers nobody: the next request renders again."""

        own_scope = dict(scope)
        if "session" in scope:  # the render's own copy: the answer has gone
            own_scope["session"] = dict(scope["session"])
        task = asyncio.ensure_future(
            self._render(key, own_scope, no_body, dropped, reader, version, feed)
        )
        self._behind.add(task)
        task.add_done_callback(self._rendered_behind)

    def _rendered_behind(self, task: asyncio.Task[Entry | None]) -> None:
        self._behind.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("rendering a page again failed", exc_info=task.exception())

    # -- answering -------------------------------------------------------------------------------

    async def _answer(
        self, entry: Entry, request: Request, reader: Reader, rule: Rule, send: Send
    ) -> None:
        csrf, name, voted = "", None, set[str]()
        if entry.page is not None:
            csrf, name = _bits(request.scope, reader)
            ids = entry.page.paper_ids
            user = reader.user
            if user is not None and ids:
                voted = await run_in_threadpool(request.app.state.feed.community.voted, user, ids)
        personal = rule.members != "same"
        await send_answer(send, *answer_entry(entry, request.headers, personal, csrf, name, voted))


def answer_entry(
    entry: Entry,
    request_headers: Headers,
    personal: bool,
    csrf: str,
    name: str | None,
    voted: set[str],
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The status, headers and body that answer a request from `entry`: a 304 when the
    reader has it already, the body gzipped when the reader takes it; a shared render is
    filled with the reader's CSRF token, name (None: a visitor) and votes."""
    body, tag = entry.body, entry.tag
    if entry.page is not None:
        body = entry.page.fill(csrf, name, voted)
        mine = "\n".join([csrf, name or "", *sorted(voted)]).encode()
        tag += "-" + hashlib.blake2b(mine, digest_size=8).hexdigest()
    headers = [
        *entry.headers,
        (b"etag", f'W/"{tag}"'.encode()),
        (b"last-modified", entry.last_modified),
        (b"cache-control", b"private, no-cache" if personal else b"no-cache"),
        (b"vary", b"Accept-Encoding, Cookie" if personal else b"Accept-Encoding"),
    ]
    if _not_modified(request_headers, tag, entry.modified):
        return 304, [h for h in headers if h[0] != b"content-type"], b""
    if len(body) >= GZIP_FROM and _accepts_gzip(request_headers):
        if entry.page is None:
            if entry.gzipped is None:
                entry.gzipped = gzip.compress(body, GZIP_LEVEL, mtime=0)
            body = entry.gzipped
        else:
            body = igzip.compress(body, GZIP_LEVEL_PER_READER, mtime=0)
        headers.append((b"content-encoding", b"gzip"))
    return 200, headers, body


def _bits(scope: Scope, reader: Reader) -> tuple[str, str | None]:
    """The reader's CSRF token (a visitor's is made on first use) and name."""
    request = Request(scope)
    return deps.csrf_token(request), reader.user.username if reader.user else None


async def _capture(
    app: ASGIApp, scope: Scope, receive: Receive, shared: SharedRender | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the app for `scope` (as a shared render when given) and keep its answer."""
    started: Message = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    inner = {**scope, SCOPE_KEY: shared} if shared is not None else scope
    await app(inner, receive, keep)
    headers = [(k, v) for k, v in started.get("headers", []) if k.lower() != b"content-length"]
    return int(started["status"]), headers, b"".join(chunks)


async def send_answer(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Send a whole answer (its Content-Length from `body`)."""
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _not_modified(headers: Headers, tag: str, modified: float) -> bool:
    """RFC 9110: If-None-Match (weak comparison) decides when present, else
    If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")}
        return tag in tags or "*" in tags
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        stamp = email.utils.parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False
    return int(modified) <= stamp


def _accepts_gzip(headers: Headers) -> bool:
    for part in headers.get("accept-encoding", "").split(","):
        name, _, params = part.partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not q or _quality(q) > 0
    return False


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0
