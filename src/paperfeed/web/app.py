"""The FastAPI application: HTML pages, the JSON API and Atom feeds over one PaperFeed.

Errors become pages (or ``{"error": ...}`` under /api/ and /feeds/) with the error's status and
message; unexpected exceptions are logged and answered with a plain 500, never a traceback.
Every response carries the security headers (web/headers.py); request bodies are limited to
``settings.max_body_bytes`` (413 beyond, counted as they arrive).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from paperfeed.config import load_settings
from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid
from paperfeed.web import (
    account,
    admin,
    api,
    atom,
    collections,
    pages,
    readers,
    recommend,
    subscribe,
)
from paperfeed.web.access_log import redact_tokens_in_access_log
from paperfeed.web.deps import SESSION_COOKIE, SESSION_MAX_AGE, trusted_proxies
from paperfeed.web.errors import install_error_handlers
from paperfeed.web.head import HeadAsGetMiddleware
from paperfeed.web.headers import SecurityHeadersMiddleware
from paperfeed.web.limits import Limiters, RateLimits
from paperfeed.web.login_cookie import LoginCookieMiddleware
from paperfeed.web.mcp_endpoint import mcp_route
from paperfeed.web.openapi import OPENAPI_PATH, install_api_docs
from paperfeed.web.page_cache import (
    GZIP_FROM,
    GZIP_LEVEL,
    Entries,
    PageCacheMiddleware,
    new_entries,
)
from paperfeed.web.page_front import PageCacheFront, VisitorTokens

__all__ = ["create_app", "create_app_from_env", "redact_tokens_in_access_log"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


class PaperfeedApp(FastAPI):
    """FastAPI with SecurityHeadersMiddleware around its whole middleware stack (so the 500
    page, the 413 of the body limit and every other answer the framework produces itself carry
    the headers too) and, in front of all, the page cache's answers to its hits."""

    def __init__(self, *, page_entries: Entries, visitor_tokens: VisitorTokens, **kwargs: Any):
        super().__init__(**kwargs)
        self.page_entries = page_entries
        self.visitor_tokens = visitor_tokens

    def build_middleware_stack(self) -> ASGIApp:
        stack = SecurityHeadersMiddleware(super().build_middleware_stack())
        return PageCacheFront(stack, self, self.page_entries, self.visitor_tokens)


def create_app(feed: PaperFeed, *, rate_limits: RateLimits | None = None) -> FastAPI:
    """The web app for `feed` (errors answered as described in paperfeed.web.errors)."""
    if feed.settings.max_body_bytes < 0:
        raise Invalid("PAPERFEED_MAX_BODY_BYTES must be 0 or more")
    mcp, mcp_lifespan = mcp_route(feed)
    secret_key = feed.settings.resolved_secret_key()
    app = PaperfeedApp(
        page_entries=new_entries(),
        visitor_tokens=VisitorTokens(secret_key, SESSION_MAX_AGE),
        title="paperfeed",
        lifespan=mcp_lifespan,
        docs_url=None,  # the offline Swagger UI of web/openapi.py
        redoc_url=None,
        openapi_url=OPENAPI_PATH,
        max_body_size=feed.settings.max_body_bytes,
    )
    app.state.feed = feed
    app.state.trusted_proxies = trusted_proxies(feed.settings.trusted_proxies)
    rate_limits = rate_limits or RateLimits.for_api_requests_per_minute(
        feed.settings.api_requests_per_minute
    )
    app.state.limiters = Limiters(rate_limits)
    # innermost first: the page cache reads the session and log-in cookie middleware's state
    app.add_middleware(PageCacheMiddleware, entries=app.page_entries)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=feed.settings.base_url.startswith("https://"),
    )
    app.add_middleware(
        LoginCookieMiddleware,
        max_age=SESSION_MAX_AGE,
        secure=feed.settings.base_url.startswith("https://"),
    )
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_FROM, compresslevel=GZIP_LEVEL)
    app.add_middleware(HeadAsGetMiddleware)  # outermost: HEAD sees the GET's final headers

    # the API's /papers/{id}.md before the pages
    for module in (api, recommend, atom, subscribe, account, admin, collections, readers, pages):
        app.include_router(module.router)
    app.router.routes.append(mcp)  # the MCP server (streamable HTTP) at /mcp
    install_api_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    return app


def create_app_from_env() -> FastAPI:
    """The app for the deployment the ``PAPERFEED_*`` environment describes, for process
    managers: ``uvicorn --factory paperfeed.web.app:create_app_from_env --workers 4``. With the
    job queue (PostgreSQL) the workers only serve: `paperfeed worker`s do the background work.
    Else, with ``PAPERFEED_DIGEST_HOUR`` every worker runs the digest scheduler; one sends.
    Run uvicorn with ``--no-proxy-headers``: the app reads X-Forwarded-For itself, from trusted
    proxies only (web/deps.py). Token values are kept out of uvicorn's access log."""
    redact_tokens_in_access_log()
    feed = PaperFeed(load_settings())
    app = create_app(feed)
    if feed.job_queue is None:
        app.state.digest_scheduler = feed.start_digest_scheduler()
        # every worker retries submissions that wait for arXiv (each claims those it looks up)
        app.state.submission_retrier = feed.community.start_submission_retrier()
    return app
