"""The HTML pages: server-rendered with Jinja2 (autoescaped), usable without JavaScript.

Every state change is a POST form carrying the session's CSRF token and answered with a
303 redirect back to the page it came from.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from paperfeed import listings
from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid, InvalidRecord, NotFound, PaperfeedError
from paperfeed.models import Paper
from paperfeed.web import auth, text
from paperfeed.web.actions import submit_paper

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["highlight"] = text.highlight
templates.env.filters["shorten"] = text.shorten
templates.env.filters["search_snippet"] = text.search_snippet
templates.env.filters["safe_url"] = text.safe_url
templates.env.globals["CSRF_FIELD"] = auth.CSRF_FIELD

FEED_PAGE = 30
SEARCH_PAGE = 20
SIMILAR = 6
TRENDING = 30
MAX_PAGE = 500


# -- helpers ---------------------------------------------------------------------------------


def get_feed(request: Request) -> PaperFeed:
    return request.app.state.feed


def here(request: Request) -> str:
    """This page's path and query, for forms that come back to it."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    has_session = "session" in request.scope
    user = auth.current_user(request, get_feed(request).store) if has_session else None
    context.update(
        user=user,
        csrf=auth.csrf_token(request) if has_session else "",
        here=here(request),
    )
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    try:
        return render(request, "error.html", status_code, status=status_code, message=message)
    except Exception:  # the error page itself failed: answer plainly
        log.exception("rendering the error page failed")
        return HTMLResponse(f"<h1>Error {status_code}</h1>", status_code=status_code)


def voted_ids(request: Request, papers: list[Paper]) -> set[str]:
    user = auth.current_user(request, get_feed(request).store)
    if user is None or not papers:
        return set()
    return get_feed(request).store.community.voted_papers(user.id, [p.id for p in papers])


def page_number(page: int) -> int:
    if page < 1 or page > MAX_PAGE:
        raise Invalid(f"page must be between 1 and {MAX_PAGE}")
    return page


def parse_day(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{name} must be a date written YYYY-MM-DD") from None


def url_with(request: Request, **changes: object) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + ("?" + urlencode(params) if params else "")


templates.env.globals["url_with"] = url_with


# -- the feed --------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def daily(
    request: Request,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    sort: str | None = None,
    page: int = 1,
) -> Response:
    store = get_feed(request).store
    period = listings.parse_period(date, week, month, default_day=listings.default_day(store))
    sort = listings.parse_sort(sort)
    number = page_number(page)
    result = listings.feed_page(
        store, period, sort=sort, limit=FEED_PAGE, offset=(number - 1) * FEED_PAGE
    )
    kinds = {kind: listings.period_of(kind, period.start) for kind in ("day", "week", "month")}
    return render(
        request,
        "feed.html",
        result=result,
        items=result.items,
        voted=voted_ids(request, [i.paper for i in result.items]),
        kinds=kinds,
        page=number,
        rank_offset=(number - 1) * FEED_PAGE,
    )


@router.get("/trending", response_class=HTMLResponse)
def trending(request: Request) -> Response:
    paperfeed = get_feed(request)
    settings = paperfeed.settings
    result = listings.trending(
        paperfeed.store,
        gravity=settings.trending_gravity,
        window_days=settings.trending_window_days,
        limit=TRENDING,
    )
    items = [t.item for t in result.items]
    return render(
        request,
        "trending.html",
        trending=result,
        items=items,
        scores={t.item.paper.id: t for t in result.items},
        voted=voted_ids(request, [i.paper for i in items]),
    )


@router.get("/about", response_class=HTMLResponse)
def about(request: Request) -> Response:
    settings = get_feed(request).settings
    gravity = settings.trending_gravity
    examples = [
        (votes, hours, listings.trending_score(votes, hours, gravity))
        for votes, hours in ((10, 2), (10, 24), (50, 24), (50, 72))
    ]
    return render(
        request,
        "about.html",
        gravity=gravity,
        window_days=settings.trending_window_days,
        examples=examples,
    )


# -- search ----------------------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    q: str = "",
    category: str = "",
    author: str = "",
    date_from: str = Query("", alias="from"),
    date_to: str = Query("", alias="to"),
    sort: str = "relevance",
    page: int = 1,
) -> Response:
    form = {"q": q, "category": category, "author": author, "from": date_from, "to": date_to}
    context: dict[str, Any] = {"form": form, "sort": sort, "results": None, "page": 1}
    if not any(form.values()):
        return render(request, "search.html", **context)
    try:
        number = page_number(page)
        context["page"] = number
        results = get_feed(request).search(
            q,
            limit=SEARCH_PAGE,
            offset=(number - 1) * SEARCH_PAGE,
            sort=sort,
            category=category or None,
            author=author or None,
            date_from=parse_day(date_from, "from"),
            date_to=parse_day(date_to, "to"),
        )
    except Invalid as error:
        return render(request, "search.html", 400, error=str(error), **context)
    hits = [h for h in results.hits if not h.paper.hidden]
    pages = max(1, math.ceil((results.total_estimate or 0) / SEARCH_PAGE))
    context.update(
        results=results,
        hits=hits,
        words=text.highlight_words(q),
        voted=voted_ids(request, [h.paper for h in hits]),
        has_next=number < pages and len(results.hits) == SEARCH_PAGE,
    )
    return render(request, "search.html", **context)


# -- one paper -------------------------------------------------------------------------------


@router.get("/papers/{paper_id:path}", response_class=HTMLResponse)
def paper_page(request: Request, paper_id: str) -> Response:
    paperfeed = get_feed(request)
    store = paperfeed.store
    paper = store.papers.find_paper(_canonical(paper_id))
    user = auth.current_user(request, store)
    is_admin = bool(user and user.is_admin)
    if paper is None or (paper.hidden and not is_admin):
        raise NotFound(f"there is no paper {paper_id!r} here")
    if paper.id != paper_id:
        return redirect(f"/papers/{paper.id}")
    try:
        similar = [p for p in paperfeed.similar(paper.id, limit=SIMILAR) if not p.hidden]
    except PaperfeedError as error:
        log.info("no similar papers for %s: %s", paper.id, error)
        similar = []
    return render(
        request,
        "paper.html",
        paper=paper,
        submission=store.community.get_submission(paper.id),
        voted=voted_ids(request, [paper]),
        similar=similar,
    )


def _canonical(raw: str) -> str:
    try:
        return parse_arxiv_id(raw)[0]
    except InvalidRecord:
        return raw


# -- votes and moderation --------------------------------------------------------------------


@router.post("/vote")
def vote(
    request: Request,
    paper_id: str = Form(...),
    action: str = Form("up"),
    next: str = Form("/"),
    csrf_token: str | None = Form(None),
) -> Response:
    auth.check_csrf(request, csrf_token)
    store = get_feed(request).store
    back = safe_next(next)
    user = auth.current_user(request, store)
    if user is None:
        return redirect("/login?" + urlencode({"next": back}))
    if action not in ("up", "down"):
        raise Invalid("action must be 'up' or 'down'")
    request.app.state.limiters.votes.hit(f"user:{user.id}")
    paper = store.papers.find_paper(paper_id)
    if paper is None or paper.hidden:
        raise NotFound(f"there is no paper {paper_id!r} here")
    if action == "up":
        store.community.add_vote(paper.id, user.id)
    else:
        store.community.remove_vote(paper.id, user.id)
    return redirect(back)


@router.post("/admin/hide")
def hide(
    request: Request,
    paper_id: str = Form(...),
    target: str = Form("paper"),
    hidden: str = Form("1"),
    next: str = Form("/"),
    csrf_token: str | None = Form(None),
) -> Response:
    auth.check_csrf(request, csrf_token)
    store = get_feed(request).store
    admin = auth.require_admin(request, store)
    if target not in ("paper", "submission") or hidden not in ("0", "1"):
        raise Invalid("target must be 'paper' or 'submission' and hidden '0' or '1'")
    if target == "paper":
        store.papers.set_paper_hidden(paper_id, hidden == "1")
    else:
        store.community.set_submission_hidden(paper_id, hidden == "1")
    log.info("%s set %s %s hidden=%s", admin.username, target, paper_id, hidden)
    return redirect(safe_next(next))


# -- submissions -----------------------------------------------------------------------------


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request) -> Response:
    return render(request, "submit.html", value="")


@router.post("/submit", response_class=HTMLResponse)
def submit(
    request: Request, arxiv_id: str = Form(""), csrf_token: str | None = Form(None)
) -> Response:
    auth.check_csrf(request, csrf_token)
    paperfeed = get_feed(request)
    user = auth.current_user(request, paperfeed.store)
    if user is None:
        return redirect("/login?next=/submit")
    try:
        request.app.state.limiters.submissions.hit(f"user:{user.id}")
        paper = submit_paper(paperfeed, arxiv_id, user, arxiv_url=request.app.state.arxiv_url)
    except PaperfeedError as error:
        return render(request, "submit.html", error.status_code, value=arxiv_id, error=str(error))
    return redirect(f"/papers/{paper.id}")


# -- accounts --------------------------------------------------------------------------------


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, next: str = "/") -> Response:
    return render(request, "signup.html", next=safe_next(next), username="", email="")


@router.post("/signup", response_class=HTMLResponse)
def signup(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    email: str = Form(""),
    next: str = Form("/"),
    csrf_token: str | None = Form(None),
) -> Response:
    auth.check_csrf(request, csrf_token)
    store = get_feed(request).store
    username, email = username.strip(), email.strip()
    try:
        request.app.state.limiters.signups.hit(f"ip:{auth.client_key(request)}")
        if email and ("@" not in email or len(email) > 320):
            raise Invalid("that e-mail address does not look right")
        user = auth.create_account(store, username, password, email or None)
    except PaperfeedError as error:
        return render(
            request,
            "signup.html",
            error.status_code,
            error=str(error),
            next=safe_next(next),
            username=username,
            email=email,
        )
    auth.log_in(request, user)
    return redirect(safe_next(next))


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), username="")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    csrf_token: str | None = Form(None),
) -> Response:
    auth.check_csrf(request, csrf_token)
    store = get_feed(request).store
    try:
        request.app.state.limiters.logins.hit(f"ip:{auth.client_key(request)}")
        user = auth.authenticate(store, username.strip(), password)
    except PaperfeedError as error:
        return render(
            request,
            "login.html",
            error.status_code,
            error=str(error),
            next=safe_next(next),
            username=username,
        )
    auth.log_in(request, user)
    return redirect(safe_next(next))


@router.post("/logout")
def logout(request: Request, csrf_token: str | None = Form(None)) -> Response:
    auth.check_csrf(request, csrf_token)
    auth.log_out(request)
    return redirect("/")
