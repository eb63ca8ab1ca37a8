"""The Hugging Face Hub compatible JSON API: ``HfApi(endpoint=...)`` works against these routes.

``list_daily_papers`` -> ``GET /api/daily_papers``, ``list_papers`` -> ``GET /api/papers/search``,
``paper_info`` -> ``GET /api/papers/{id}``, ``read_paper`` -> ``GET /papers/{id}.md``.
Errors are ``{"error": message}`` with the status of the problem (400 malformed, 404 unknown).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute

from paperfeed import listings
from paperfeed.arxiv_ids import is_arxiv_id, parse_arxiv_id
from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid, NotFound, PaperfeedError
from paperfeed.models import FeedItem, Paper, Submission
from paperfeed.web import serialize

log = logging.getLogger(__name__)

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_PAGE = 1_000_000  # keeps p * limit inside a 64-bit SQL integer
TRENDING_POOL = 10_000  # most submissions of one period ranked for sort=trending
API_SORTS = ("publishedAt", "trending", "upvotes")


def error_response(status_code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code)


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("query", "path"))
        parts.append(f"{where}: {problem.get('msg', 'invalid value')}" if where else problem["msg"])
    return "; ".join(parts) or "invalid request"


class JsonErrorRoute(APIRoute):
    """A route whose failures answer ``{"error": message}``: 400 for malformed parameters, the
    error's own status for PaperfeedError, 500 (logged, no traceback sent) for anything else."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return error_response(400, _validation_message(error))
            except PaperfeedError as error:
                return error_response(error.status_code, str(error))
            except Exception:
                log.exception("%s %s failed", request.method, request.url.path)
                return error_response(500, "internal error")

        return route


router = APIRouter(route_class=JsonErrorRoute, tags=["api"])


def get_feed(request: Request) -> PaperFeed:
    """The PaperFeed the app was created with (``app.state.feed``)."""
    return request.app.state.feed


FeedDep = Annotated[PaperFeed, Depends(get_feed)]


def page_limit(limit: int) -> int:
    return min(limit, MAX_LIMIT)


def canonical_id(raw: str) -> str:
    """``2401.01234v2`` / ``arXiv:2401.01234`` -> ``2401.01234``; other ids unchanged."""
    return parse_arxiv_id(raw)[0] if is_arxiv_id(raw) else raw


def visible_paper(feed: PaperFeed, raw_id: str) -> tuple[Paper, Submission | None]:
    """A paper shown to the public, with its visible submission; NotFound otherwise."""
    paper = feed.store.papers.find_paper(canonical_id(raw_id))
    if paper is None or paper.hidden:
        raise NotFound(f"no paper {raw_id!r}")
    submission = feed.store.community.get_submission(paper.id)
    return paper, submission if submission and not submission.hidden else None


def daily_items(
    feed: PaperFeed,
    *,
    date: str | None,
    week: str | None,
    month: str | None,
    submitter: str | None,
    sort: str | None,
    page: int,
    limit: int,
) -> list[FeedItem]:
    """The feed items of one API page.

    With a date, week or month the default order is most upvoted first (as the Hub serves a day);
    without one every day is listed, newest submission first, and ``p`` pages back in time.
    """
    if sort is not None and sort not in API_SORTS:
        raise Invalid(f"sort must be one of {', '.join(API_SORTS)}")
    store = feed.store
    has_period = bool(date or week or month)
    if has_period:
        period = listings.parse_period(date, week, month, default_day=dt.date.min)
        start, end = period.start, period.end
    else:
        start, end = dt.date.min, dt.date.max
    sort = sort or ("upvotes" if has_period else "publishedAt")
    offset = page * limit
    if sort != "trending":
        store_sort = "date" if sort == "publishedAt" else "upvotes"
        return store.community.listing(
            start, end, sort=store_sort, limit=limit, offset=offset, submitter=submitter
        )
    settings = feed.settings
    if not has_period:
        ranked = listings.trending(
            store,
            gravity=settings.trending_gravity,
            window_days=settings.trending_window_days,
            limit=TRENDING_POOL,
        ).items
        items = [t.item for t in ranked]
        if submitter:
            items = [i for i in items if i.submission.submitter == submitter]
        return items[offset : offset + limit]
    pool = store.community.listing(
        start, end, sort="upvotes", limit=TRENDING_POOL, submitter=submitter
    )
    now = dt.datetime.now(dt.UTC)
    period_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    ranked = listings.rank_trending(
        pool, now=min(now, period_end), gravity=settings.trending_gravity, limit=offset + limit
    )
    return [t.item for t in ranked[offset:]]


@router.get("/api/daily_papers", response_model=None)
def daily_papers(
    feed: FeedDep,
    date: str | None = Query(None, description="one day, YYYY-MM-DD"),
    week: str | None = Query(None, description="an ISO week, YYYY-Www"),
    month: str | None = Query(None, description="a month, YYYY-MM"),
    submitter: str | None = Query(None, description="only papers this user submitted"),
    sort: str | None = Query(None, description="publishedAt (newest first), trending or upvotes"),
    p: int = Query(0, ge=0, le=MAX_PAGE, description="page number, from 0"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"papers per page (at most {MAX_LIMIT})"),
) -> JSONResponse:
    """Daily papers, as ``HfApi.list_daily_papers`` asks for them."""
    items = daily_items(
        feed,
        date=date,
        week=week,
        month=month,
        submitter=submitter,
        sort=sort,
        page=p,
        limit=page_limit(limit),
    )
    return JSONResponse([serialize.feed_item_json(item) for item in items])


def search_papers(feed: PaperFeed, q: str, limit: int) -> list[tuple[Paper, Submission | None]]:
    """Visible papers matching `q`, best first, with their visible submissions."""
    if not q.strip():
        raise Invalid("the search query q is empty")
    found = []
    for hit in feed.search(q, limit=limit).hits:
        paper = hit.paper
        if paper.hidden:
            continue
        submission = feed.store.community.get_submission(paper.id)
        found.append((paper, submission if submission and not submission.hidden else None))
    return found


@router.get("/api/papers/search", response_model=None)
def papers_search(
    feed: FeedDep,
    q: str = Query(..., description="search query (keywords, phrases, author names)"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"at most {MAX_LIMIT} results"),
) -> JSONResponse:
    """Search, as ``HfApi.list_papers(query=...)`` asks for it."""
    results = search_papers(feed, q, page_limit(limit))
    return JSONResponse([serialize.daily_item_json(paper, sub) for paper, sub in results])


@router.get("/api/papers/{paper_id:path}", response_model=None)
def paper_info(paper_id: str, feed: FeedDep) -> JSONResponse:
    """One paper (``HfApi.paper_info``); old-style ids like ``hep-th/9901001`` work as they are."""
    paper, submission = visible_paper(feed, paper_id)
    return JSONResponse(serialize.paper_json(paper, submission))


@router.get("/papers/{paper_id:path}.md", response_class=PlainTextResponse, tags=["pages"])
def paper_markdown(paper_id: str, feed: FeedDep) -> PlainTextResponse:
    """The paper page as markdown (``HfApi.read_paper``)."""
    paper, submission = visible_paper(feed, paper_id)
    page_url = f"{feed.settings.base_url}/papers/{paper.id}"
    return PlainTextResponse(
        serialize.paper_markdown(paper, page_url, submission), media_type="text/markdown"
    )
