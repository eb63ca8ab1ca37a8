"""The Hugging Face Hub compatible JSON API: ``HfApi(endpoint=...)`` works against these routes.

``list_daily_papers`` -> ``GET /api/daily_papers``, ``list_papers`` -> ``GET /api/papers/search``,
``paper_info`` -> ``GET /api/papers/{id}``, ``read_paper`` -> ``GET /papers/{id}.md``.
Errors are ``{"error": message}`` with the status of the problem (400 malformed, 404 unknown).
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, PlainTextResponse

from paperfeed import links, listings
from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid
from paperfeed.models import Paper, Submission
from paperfeed.query import parse_query
from paperfeed.web import serialize
from paperfeed.web.deps import FeedDep
from paperfeed.web.errors import ErrorMappingRoute

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_PAGE = 1_000_000  # keeps p * limit inside a 64-bit SQL integer
MARKDOWN_TYPE = "text/markdown; charset=utf-8"  # served with nosniff, as every answer (app.py)

router = APIRouter(route_class=ErrorMappingRoute, tags=["api"])


def page_limit(limit: int) -> int:
    return min(limit, MAX_LIMIT)


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
    request = listings.DailyPapersRequest(
        date=date,
        week=week,
        month=month,
        submitter=submitter,
        sort=sort,
        page=p,
        limit=page_limit(limit),
    )
    items = feed.daily_papers(request)
    return JSONResponse([serialize.feed_item_json(item) for item in items])


def search_papers(feed: PaperFeed, q: str, limit: int) -> list[tuple[Paper, Submission | None]]:
    """Visible papers matching `q`, best first, with their visible submissions."""
    if not q.strip():
        raise Invalid("the search query q is empty")
    papers = [hit.paper for hit in feed.search(parse_query(q, limit=limit)).hits]
    submissions = feed.visible_submissions([p.id for p in papers])
    return [(paper, submissions.get(paper.id)) for paper in papers]


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
    paper, submission = feed.paper_for_reader(paper_id)
    return JSONResponse(serialize.paper_json(paper, submission))


@router.get("/papers/{paper_id:path}.md", response_class=PlainTextResponse, tags=["pages"])
def paper_markdown(paper_id: str, feed: FeedDep) -> PlainTextResponse:
    """The paper page as markdown (``HfApi.read_paper``)."""
    paper, submission = feed.paper_for_reader(paper_id)
    page_url = links.paper_url(feed.settings.base_url, paper.id)
    return PlainTextResponse(
        serialize.paper_markdown(paper, page_url, submission), media_type=MARKDOWN_TYPE
    )
