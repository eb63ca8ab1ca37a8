"""The account page: who you are signed in as, and "log out everywhere" (every browser and
device signed in to the account is logged out at once, e.g. after using a shared computer);
all of the account's data as one JSON download, and deleting the account with all of it (the
password confirms)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from paperfeed.errors import Invalid, PaperfeedError
from paperfeed.web.deps import (
    check_csrf,
    current_user,
    get_feed,
    log_out,
    log_out_everywhere,
    require_user,
)
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.templating import private, redirect, render

router = APIRouter(include_in_schema=False, route_class=ErrorMappingRoute)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return redirect("/login?next=/account")
    response = render(
        request, "account.html", sessions=get_feed(request).community.count_sessions(user)
    )
    return private(response)


@router.post("/account/logout-everywhere")
def logout_everywhere(request: Request, csrf_token: str | None = Form(None)) -> Response:
    check_csrf(request, csrf_token)
    log_out_everywhere(request, require_user(request))
    return redirect("/")


@router.get("/account/export")
def export_account(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return redirect("/login?next=/account")
    response = JSONResponse(get_feed(request).readers.export(user))
    private(response)
    disposition = f'attachment; filename="paperfeed-{user.username}.json"'
    response.headers["Content-Disposition"] = disposition
    return response


@router.post("/account/delete", response_class=HTMLResponse)
def delete_account(
    request: Request,
    password: str = Form(""),
    confirm: str | None = Form(None),
    csrf_token: str | None = Form(None),
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    feed = get_feed(request)
    try:
        if confirm is None:
            raise Invalid("tick the box to confirm that everything is to be deleted")
        feed.community.delete_account(user, password)
    except PaperfeedError as error:
        response = render(
            request,
            "account.html",
            error.status_code,
            sessions=feed.community.count_sessions(user),
            error=str(error),
        )
        return private(response)
    log_out(request)
    return render(request, "readers/deleted.html")
