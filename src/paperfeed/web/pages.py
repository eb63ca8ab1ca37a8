"""The HTML pages: server-rendered with Jinja2 (autoescaped), usable without JavaScript.

Every state change is a POST form carrying the session's CSRF token and answered with a
303 redirect back to the page it came from. Routes only translate HTTP to PaperFeed calls.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from paperfeed import links, listings
from paperfeed.errors import Invalid, PaperfeedError
from paperfeed.models import Paper, PendingSubmission
from paperfeed.query import parse_query
from paperfeed.web import text
from paperfeed.web.deps import (
    check_csrf,
    client_key,
    current_user,
    get_feed,
    limiters,
    log_in,
    log_out,
)
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.templating import redirect, render, safe_next

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False, route_class=ErrorMappingRoute)

FEED_PAGE = 30
SEARCH_PAGE = 20
SIMILAR = 6
TRENDING = 30
MAX_PAGE = 500


def voted_ids(request: Request, papers: list[Paper]) -> set[str]:
    return get_feed(request).community.voted(current_user(request), [p.id for p in papers])


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
    paperfeed = get_feed(request)
    period = listings.parse_period(date, week, month, default_day=paperfeed.latest_day())
    number = page_number(page)
    result = paperfeed.listing(
        period,
        sort=listings.parse_sort(sort),
        limit=FEED_PAGE,
        offset=(number - 1) * FEED_PAGE,
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
        updated=paperfeed.last_updated(),
    )


@router.get("/trending", response_class=HTMLResponse)
def trending(request: Request) -> Response:
    result = get_feed(request).trending(limit=TRENDING)
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
        query = parse_query(
            q,
            category=category or None,
            author=author or None,
            date_from=parse_day(date_from, "from"),
            date_to=parse_day(date_to, "to"),
            sort=sort,
            limit=SEARCH_PAGE,
            offset=(number - 1) * SEARCH_PAGE,
        )
        results = get_feed(request).search(query)
    except Invalid as error:
        return render(request, "search.html", 400, error=str(error), **context)
    pages = min(MAX_PAGE, max(1, math.ceil(results.total / SEARCH_PAGE)))
    context.update(
        results=results,
        hits=results.hits,
        words=text.highlight_words(results.query),
        voted=voted_ids(request, [h.paper for h in results.hits]),
        pages=pages,
        has_next=number < pages,
    )
    return render(request, "search.html", **context)


# -- one paper -------------------------------------------------------------------------------


@router.get("/papers/{paper_id:path}", response_class=HTMLResponse)
def paper_page(request: Request, paper_id: str) -> Response:
    paperfeed = get_feed(request)
    paper, submission = paperfeed.community.paper_for_reader(paper_id, current_user(request))
    if paper.id != paper_id:
        return redirect(links.paper_path(paper.id))
    try:
        similar = paperfeed.similar(paper.id, limit=SIMILAR)
    except PaperfeedError as error:
        log.info("no similar papers for %s: %s", paper.id, error)
        similar = []
    return render(
        request,
        "paper.html",
        paper=paper,
        page_url=links.paper_url(paperfeed.settings.base_url, paper.id),
        submission=submission,
        voted=voted_ids(request, [paper]),
        similar=similar,
        **save_choices(request, paper),
    )


def save_choices(request: Request, paper: Paper) -> dict[str, Any]:
    """The reader's collections for the paper page's "Save to" form, and those holding it."""
    user, collections = current_user(request), get_feed(request).readers.collections
    return {
        "collections": collections.of_user(user) if user else [],
        "saved_in": collections.holding(user, paper.id),
    }


# -- votes and moderation --------------------------------------------------------------------


@router.post("/vote")
def vote(
    request: Request,
    paper_id: str = Form(...),
    action: str = Form("up"),
    next: str = Form("/"),
    csrf_token: str | None = Form(None),
) -> Response:
    check_csrf(request, csrf_token)
    back = safe_next(next)
    user = current_user(request)
    if user is None:
        return redirect("/login?" + urlencode({"next": back}))
    if action not in ("up", "down"):
        raise Invalid("action must be 'up' or 'down'")
    limiters(request).votes.hit(f"user:{user.id}")
    get_feed(request).community.vote(paper_id, user, up=action == "up")
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
    check_csrf(request, csrf_token)
    if hidden not in ("0", "1"):
        raise Invalid("hidden must be '0' or '1'")
    get_feed(request).community.set_hidden(
        current_user(request), paper_id, target=target, hidden=hidden == "1"
    )
    return redirect(safe_next(next))


# -- submissions -----------------------------------------------------------------------------


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request) -> Response:
    return render(request, "submit.html", value="")


@router.post("/submit", response_class=HTMLResponse)
def submit(
    request: Request, arxiv_id: str = Form(""), csrf_token: str | None = Form(None)
) -> Response:
    check_csrf(request, csrf_token)
    user = current_user(request)
    if user is None:
        return redirect("/login?next=/submit")
    try:
        limiters(request).submissions.hit(f"user:{user.id}")
        result = get_feed(request).community.submit(arxiv_id, user)
    except PaperfeedError as error:
        return render(request, "submit.html", error.status_code, value=arxiv_id, error=str(error))
    if isinstance(result, PendingSubmission):  # arXiv busy: added in the background
        return render(request, "submit.html", 202, value="", pending=result.paper_id)
    return redirect(links.paper_path(result.id))


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
    check_csrf(request, csrf_token)
    try:
        limiters(request).signups.hit(f"ip:{client_key(request)}")
        user = get_feed(request).community.create_account(username, password, email or None)
    except PaperfeedError as error:
        return render(
            request,
            "signup.html",
            error.status_code,
            error=str(error),
            next=safe_next(next),
            username=username.strip(),
            email=email.strip(),
        )
    log_in(request, user)
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
    check_csrf(request, csrf_token)
    try:
        limiters(request).logins.hit(f"ip:{client_key(request)}")
        user = get_feed(request).community.authenticate(username, password)
    except PaperfeedError as error:
        return render(
            request,
            "login.html",
            error.status_code,
            error=str(error),
            next=safe_next(next),
            username=username,
        )
    log_in(request, user)
    return redirect(safe_next(next))


@router.post("/logout")
def logout(request: Request, csrf_token: str | None = Form(None)) -> Response:
    check_csrf(request, csrf_token)
    log_out(request)
    return redirect("/")
