"""The FastAPI application: HTML pages, the JSON API and Atom feeds over one PaperFeed.

Errors become pages (or ``{"error": ...}`` under /api/ and /feeds/) with the error's status and
message; unexpected exceptions are logged and answered with a plain 500, never a traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from paperfeed.config import load_settings
from paperfeed.core import PaperFeed
from paperfeed.errors import PaperfeedError
from paperfeed.ingest import arxiv_api
from paperfeed.web import api, atom, pages, subscribe
from paperfeed.web.auth import SESSION_COOKIE, SESSION_MAX_AGE, Limiters, RateLimits

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
JSON_PREFIXES = ("/api/", "/feeds/")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def create_app(
    feed: PaperFeed,
    *,
    rate_limits: RateLimits | None = None,
    arxiv_url: str = arxiv_api.BASE_URL,
) -> FastAPI:
    """The web app for `feed`. `arxiv_url` is where submissions of unknown ids are looked up."""
    app = FastAPI(
        title="paperfeed", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json"
    )
    app.state.feed = feed
    app.state.limiters = Limiters(rate_limits or RateLimits())
    app.state.arxiv_url = arxiv_url
    app.add_middleware(
        SessionMiddleware,
        secret_key=feed.settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=feed.settings.base_url.startswith("https://"),
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    for module in (api, atom, subscribe, pages):  # the API's /papers/{id}.md before the pages
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_error_handlers(app)
    return app


def create_app_from_env() -> FastAPI:
    """The app for the deployment the ``PAPERFEED_*`` environment describes, for process
    managers: ``uvicorn --factory paperfeed.web.app:create_app_from_env --workers 4``. With
    ``PAPERFEED_DIGEST_HOUR`` every worker runs the digest scheduler; one sends (sender lock)."""
    from paperfeed.digest.digests import start_scheduler

    feed = PaperFeed(load_settings())
    app = create_app(feed)
    app.state.digest_scheduler = start_scheduler(feed)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PREFIXES)


def _error(request: Request, status_code: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status_code)
    return pages.error_page(request, status_code, message)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PaperfeedError)
    async def paperfeed_error(request: Request, error: PaperfeedError) -> Response:
        return _error(request, error.status_code, str(error))

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> Response:
        problems = []
        for problem in error.errors():
            where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("query", "body"))
            problems.append(
                f"{where}: {problem.get('msg', 'invalid')}" if where else problem["msg"]
            )
        return _error(request, 400, "malformed request: " + "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = "page not found" if error.status_code == 404 else str(error.detail)
        response = _error(request, error.status_code, message)
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=error)
        if _wants_json(request):
            return JSONResponse({"error": "internal error"}, status_code=500)
        return pages.error_page(
            request, 500, "something went wrong on our side; it has been logged"
        )
