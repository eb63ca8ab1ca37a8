"""The FastAPI application: HTML pages, the JSON API and Atom feeds over one PaperFeed.

Errors become pages (or ``{"error": ...}`` under /api/ and /feeds/) with the error's status and
message; unexpected exceptions are logged and answered with a plain 500, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from paperfeed.config import load_settings
from paperfeed.core import PaperFeed
from paperfeed.web import api, atom, pages, subscribe
from paperfeed.web.deps import SESSION_COOKIE, SESSION_MAX_AGE
from paperfeed.web.errors import install_error_handlers
from paperfeed.web.limits import Limiters, RateLimits

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def create_app(feed: PaperFeed, *, rate_limits: RateLimits | None = None) -> FastAPI:
    """The web app for `feed` (errors answered as described in paperfeed.web.errors)."""
    app = FastAPI(
        title="paperfeed", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json"
    )
    app.state.feed = feed
    app.state.limiters = Limiters(rate_limits or RateLimits())
    app.add_middleware(
        SessionMiddleware,
        secret_key=feed.settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=feed.settings.base_url.startswith("https://"),
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    for module in (api, atom, subscribe, pages):  # the API's /papers/{id}.md before the pages
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    return app


def create_app_from_env() -> FastAPI:
    """The app for the deployment the ``PAPERFEED_*`` environment describes, for process
    managers: ``uvicorn --factory paperfeed.web.app:create_app_from_env --workers 4``. With
    ``PAPERFEED_DIGEST_HOUR`` every worker runs the digest scheduler; one sends (sender lock)."""
    feed = PaperFeed(load_settings())
    app = create_app(feed)
    app.state.digest_scheduler = feed.start_digest_scheduler()
    return app
