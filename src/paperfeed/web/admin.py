"""Administrators' pages: the followed sources (list, add, remove) and the sync status.

Like every form, adding and removing sources are POSTs carrying the session's CSRF token,
answered with a 303 back to the list; other users get 403, visitors are sent to log in.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from paperfeed.errors import Forbidden, PaperfeedError
from paperfeed.models import SOURCE_KINDS, User
from paperfeed.sync.status import ago
from paperfeed.web.deps import check_csrf, current_user, get_feed
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.templating import private, redirect, render

router = APIRouter(include_in_schema=False, route_class=ErrorMappingRoute)


def _admin(request: Request) -> User | None:
    """The signed-in administrator; None for a visitor (to be sent to log in); Forbidden for
    anyone else."""
    user = current_user(request)
    if user is not None and not user.is_admin:
        raise Forbidden("administrators only")
    return user


def _sources_page(request: Request, status_code: int = 200, **context: object) -> Response:
    feed = get_feed(request)
    context.setdefault("kind", "arxiv")
    context.setdefault("value", "")
    response = render(
        request,
        "admin/sources.html",
        status_code,
        sources=feed.sync_service.sources(),
        kinds=SOURCE_KINDS,
        **context,
    )
    return private(response)


@router.get("/admin/sources", response_class=HTMLResponse)
def sources(request: Request) -> Response:
    if _admin(request) is None:
        return redirect("/login?next=/admin/sources")
    return _sources_page(request)


@router.post("/admin/sources", response_class=HTMLResponse)
def add_source(
    request: Request,
    kind: str = Form(""),
    value: str = Form(""),
    csrf_token: str | None = Form(None),
) -> Response:
    check_csrf(request, csrf_token)
    if _admin(request) is None:
        return redirect("/login?next=/admin/sources")
    try:
        get_feed(request).sync_service.add_source(kind, value)
    except PaperfeedError as error:
        return _sources_page(request, error.status_code, error=str(error), kind=kind, value=value)
    return redirect("/admin/sources")


@router.post("/admin/sources/{source_id}/remove")
def remove_source(
    request: Request, source_id: int, csrf_token: str | None = Form(None)
) -> Response:
    check_csrf(request, csrf_token)
    if _admin(request) is None:
        return redirect("/login?next=/admin/sources")
    get_feed(request).sync_service.remove_source(source_id)
    return redirect("/admin/sources")


@router.get("/admin/status", response_class=HTMLResponse)
def status(request: Request) -> Response:
    if _admin(request) is None:
        return redirect("/login?next=/admin/status")
    state = get_feed(request).sync_status()
    response = render(request, "admin/status.html", status=state, ago=ago)
    return private(response)
