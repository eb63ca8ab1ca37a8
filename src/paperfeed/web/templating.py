"""Jinja2 templates (autoescaped) and the one function that renders a page for a request."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from paperfeed import links
from paperfeed.web import deps, personal, text
from paperfeed.web.feed_links import feeds_for

log = logging.getLogger(__name__)

ResponseT = TypeVar("ResponseT", bound=Response)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def here(request: Request) -> str:
    """This page's path and query, for forms that come back to it."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def url_with(request: Request, **changes: object) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + ("?" + urlencode(params) if params else "")


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def login_redirect(back: str) -> RedirectResponse:
    """To the log-in page, which comes back to `back` once the reader is signed in."""
    return redirect("/login?" + urlencode({"next": back}))


def private(response: ResponseT) -> ResponseT:
    """`response` marked as one reader's own: no cache, shared or the browser's, keeps it."""
    response.headers["Cache-Control"] = "no-store"
    return response


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    session = deps.has_session(request)
    shared = personal.shared_render(request.scope)
    if shared is not None:  # for every reader: the page cache fills in who (web/personal.py)
        context.update(user=shared.user, csrf=shared.csrf, here=here(request))
    else:
        context.update(
            user=deps.current_user(request) if session else None,
            csrf=deps.csrf_token(request) if session else "",
            here=here(request),
        )
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    try:
        return render(request, "error.html", status_code, status=status_code, message=message)
    except Exception:  # the error page itself failed: answer plainly
        log.exception("rendering the error page failed")
        return HTMLResponse(f"<h1>Error {status_code}</h1>", status_code=status_code)


templates.env.filters["highlight"] = text.highlight
templates.env.filters["shorten"] = text.shorten
templates.env.filters["search_snippet"] = text.search_snippet
templates.env.tests["shared_render"] = personal.is_shared_csrf
templates.env.globals["CSRF_FIELD"] = deps.CSRF_FIELD
templates.env.globals["feeds_for"] = feeds_for
templates.env.globals["url_with"] = url_with
templates.env.globals["paper_path"] = links.paper_path
templates.env.globals["source_links"] = links.source_links
templates.env.globals["keyword_search_path"] = links.keyword_search_path
templates.env.globals["safe_url"] = links.safe_url
templates.env.globals["author_path"] = links.author_path
