"""A reader's own pages: /for-you (ranked new papers, with "not interested" and "more like
this"), importing a library, follows (authors, categories, saved searches: the digest's too) and
author pages. Every change is a POST form with the session's CSRF token, answered by a redirect.
/for-you, the library and follows are the signed-in reader's alone; a visitor's /for-you ranks a
list pasted or uploaded once, storing nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from paperfeed.models import User
from paperfeed.readers import Readers
from paperfeed.readers.foryou import ForYou
from paperfeed.web.deps import (
    check_csrf,
    client_key,
    current_user,
    get_feed,
    limiters,
    require_user,
)
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.limits import LIBRARY_UPLOAD_BYTES
from paperfeed.web.templating import login_redirect, private, redirect, render, safe_next

router = APIRouter(include_in_schema=False, route_class=ErrorMappingRoute)


def _readers(request: Request) -> Readers:
    return get_feed(request).readers


def _ranked_page(
    request: Request, result: ForYou, window: str, user: User | None = None
) -> Response:
    """/for-you showing `result`, with `user`'s votes (a visitor has none)."""
    feed = get_feed(request)
    ids = [r.paper.id for r in result.recommendations]
    return private(
        render(
            request,
            "readers/for_you.html",
            result=result,
            window=window,
            voted=feed.community.voted(user, ids),
            submissions=feed.community.visible_submissions(ids),
        )
    )


async def _read_upload(upload: UploadFile | None) -> tuple[bytes, str | None]:
    if upload is None:
        return b"", None
    return await upload.read(), upload.filename


# -- /for-you ----------------------------------------------------------------------------------


@router.get("/for-you", response_class=HTMLResponse)
def for_you(request: Request, window: str = "today") -> Response:
    user = current_user(request)
    if user is None:
        return private(render(request, "readers/for_you.html", result=None, window=window))
    return _ranked_page(request, _readers(request).for_you(user, window), window, user)


@router.post("/for-you", response_class=HTMLResponse)
async def for_you_list(
    request: Request,
    ids: str = Form(""),
    window: str = Form("today"),
    library: Annotated[UploadFile | None, File()] = None,
    csrf_token: str | None = Form(None),
) -> Response:
    """A visitor's ranking from pasted arXiv ids or an uploaded library file (stored nowhere)."""
    check_csrf(request, csrf_token)
    limiters(request).libraries.hit("list:" + client_key(request))
    data, filename = await _read_upload(library)
    if not data.strip():
        data, filename = ids.encode(), None
    return _ranked_page(request, _readers(request).for_list(data, filename, window), window)


@router.get("/for-you/about", response_class=HTMLResponse)
def for_you_about(request: Request) -> Response:
    return render(request, "readers/for_you_about.html")


@router.post("/for-you/feedback")
def feedback(
    request: Request,
    paper_id: str = Form(...),
    kind: str = Form(...),
    next: str = Form("/for-you"),
    csrf_token: str | None = Form(None),
) -> Response:
    check_csrf(request, csrf_token)
    _readers(request).feedback(require_user(request), paper_id, kind)
    return redirect(safe_next(next, "/for-you"))


@router.post("/for-you/reset")
def reset_feedback(request: Request, csrf_token: str | None = Form(None)) -> Response:
    check_csrf(request, csrf_token)
    _readers(request).reset_feedback(require_user(request))
    return redirect("/for-you")


# -- library import ----------------------------------------------------------------------------


@router.get("/library", response_class=HTMLResponse)
def library_form(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect("/library")
    interests = get_feed(request).store.readers.interests_of(user.id)
    return private(render(request, "readers/library.html", report=None, interests=interests))


@router.post("/library/import", response_class=HTMLResponse, max_body_size=LIBRARY_UPLOAD_BYTES)
async def import_library(
    request: Request,
    library: Annotated[UploadFile | None, File()] = None,
    csrf_token: str | None = Form(None),
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    limiters(request).libraries.hit(f"user:{user.id}")
    data, filename = await _read_upload(library)
    report = _readers(request).import_library(user, data, filename)
    interests = get_feed(request).store.readers.interests_of(user.id)
    return private(render(request, "readers/library.html", report=report, interests=interests))


# -- follows and authors -----------------------------------------------------------------------


@router.get("/following", response_class=HTMLResponse)
def following(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect("/following")
    follows = _readers(request).follows.of(user)
    return private(render(request, "readers/following.html", follows=follows))


@router.post("/follow")
def follow(
    request: Request,
    kind: str = Form(...),
    value: str = Form(""),
    action: str = Form("follow"),
    next: str = Form("/following"),
    csrf_token: str | None = Form(None),
) -> Response:
    check_csrf(request, csrf_token)
    back = safe_next(next, "/following")
    user = current_user(request)
    if user is None:
        return login_redirect(back)
    follows = _readers(request).follows
    if action == "unfollow":
        follows.unfollow(user, kind, value)
    else:
        follows.follow(user, kind, value)
    return redirect(back)


@router.get("/authors/{name:path}", response_class=HTMLResponse)
def author_page(request: Request, name: str) -> Response:
    user = current_user(request)
    readers = _readers(request)
    author = readers.author(name)
    feed = get_feed(request)
    ids = [p.id for p in author.papers]
    return render(
        request,
        "readers/author.html",
        author=author,
        following=readers.follows.follows(user, "author", author.name),
        voted=feed.community.voted(user, ids),
        submissions=feed.community.visible_submissions(ids),
    )
