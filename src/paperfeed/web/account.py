"""The account page: who you are signed in as, and "log out everywhere" (every browser and
device signed in to the account is logged out at once, e.g. after using a shared computer)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from paperfeed.web.deps import check_csrf, current_user, get_feed, log_out_everywhere, require_user
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.templating import redirect, render

router = APIRouter(include_in_schema=False, route_class=ErrorMappingRoute)

PRIVATE = {"Cache-Control": "no-store"}


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return redirect("/login?next=/account")
    response = render(request, "account.html", sessions=get_feed(request).count_sessions(user))
    response.headers.update(PRIVATE)
    return response


@router.post("/account/logout-everywhere")
def logout_everywhere(request: Request, csrf_token: str | None = Form(None)) -> Response:
    check_csrf(request, csrf_token)
    log_out_everywhere(request, require_user(request))
    return redirect("/")
