"""The Hugging Face Hub compatible JSON API: ``HfApi(endpoint=...)`` works against these routes.

``list_daily_papers`` -> ``GET /api/daily_papers``, ``list_papers`` -> ``GET /api/papers/search``,
``paper_info`` -> ``GET /api/papers/{id}``, ``read_paper`` -> ``GET /papers/{id}.md``.
Errors are ``{"error": message}`` with the status of the problem (400 malformed, 404 unknown).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from paperfeed import links, listings
from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid
from paperfeed.models import Paper, Submission
from paperfeed.query import parse_query
from paperfeed.web import serialize
from paperfeed.web.deps import FeedDep, limit_api_rate
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.schemas import (
    API_ERRORS,
    DAY_PARAM,
    MONTH_PARAM,
    NOT_FOUND,
    ONE_PERIOD,
    PAGE_ERRORS,
    QUERY_PARAM,
    WEEK_PARAM,
    ApiSort,
    DailyPaperJson,
    PaperJson,
)

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_PAGE = 1_000_000  # keeps p * limit inside a 64-bit SQL integer

# Routes return the dicts of web/serialize.py: FastAPI validates them once against the
# response model and writes the JSON straight from pydantic-core; keys without a value
# (None) are left out, as the Hub does.
router = APIRouter(
    route_class=ErrorMappingRoute,
    tags=["api"],
    dependencies=[limit_api_rate],
    responses=API_ERRORS,
)


def page_limit(limit: int) -> int:
    return min(limit, MAX_LIMIT)


@router.get(
    "/api/daily_papers", response_model=list[DailyPaperJson], response_model_exclude_none=True
)
def daily_papers(
    feed: FeedDep,
    date: str | None = Query(
        None, description="one day, YYYY-MM-DD" + ONE_PERIOD, json_schema_extra=DAY_PARAM
    ),
    week: str | None = Query(
        None, description="an ISO week, YYYY-Www" + ONE_PERIOD, json_schema_extra=WEEK_PARAM
    ),
    month: str | None = Query(
        None, description="a month, YYYY-MM" + ONE_PERIOD, json_schema_extra=MONTH_PARAM
    ),
    submitter: str | None = Query(None, description="only papers this user submitted"),
    sort: Annotated[
        ApiSort | None, Query(description="publishedAt (newest first), trending or upvotes")
    ] = None,
    p: int = Query(0, ge=0, le=MAX_PAGE, description="page number, from 0"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"papers per page (at most {MAX_LIMIT})"),
) -> list[dict[str, Any]]:
    """Daily papers, as ``HfApi.list_daily_papers`` asks for them."""
    request = listings.DailyPapersRequest(
        date=date,
        week=week,
        month=month,
        submitter=submitter,
        sort=sort.value if sort else None,
        page=p,
        limit=page_limit(limit),
    )
    return [serialize.feed_item_json(item) for item in feed.daily_papers(request)]


def search_papers(feed: PaperFeed, q: str, limit: int) -> list[tuple[Paper, Submission | None]]:
    """Visible papers matching `q`, best first, with their visible submissions."""
    if not q.strip():
        raise Invalid("the search query q is empty")
    papers = [hit.paper for hit in feed.search(parse_query(q, limit=limit)).hits]
    submissions = feed.community.visible_submissions([p.id for p in papers])
    return [(paper, submissions.get(paper.id)) for paper in papers]


@router.get(
    "/api/papers/search", response_model=list[DailyPaperJson], response_model_exclude_none=True
)
def papers_search(
    feed: FeedDep,
    q: str | None = Query(
        None,
        description="search query (keywords, phrases, author names), not blank; without it, "
        "the newest daily papers (as HfApi.list_papers() with no query)",
        json_schema_extra=QUERY_PARAM,
    ),
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"at most {MAX_LIMIT} results"),
) -> list[dict[str, Any]]:
    """Search, as ``HfApi.list_papers(query=...)`` asks for it."""
    if q is None:
        newest = feed.daily_papers(listings.DailyPapersRequest(limit=page_limit(limit)))
        return [serialize.feed_item_json(item) for item in newest]
    results = search_papers(feed, q, page_limit(limit))
    return [serialize.daily_item_json(paper, sub) for paper, sub in results]


@router.get(
    "/api/papers/{paper_id:path}",
    response_model=PaperJson,
    response_model_exclude_none=True,
    responses=NOT_FOUND,
)
def paper_info(paper_id: str, feed: FeedDep) -> dict[str, Any]:
    """One paper (``HfApi.paper_info``); old-style ids like ``hep-th/9901001`` work as they are."""
    paper, submission = feed.community.paper_for_reader(paper_id)
    return serialize.paper_json(paper, submission)


class MarkdownResponse(PlainTextResponse):
    media_type = "text/markdown"  # Starlette adds the charset (utf-8)


@router.get(
    "/papers/{paper_id:path}.md",
    response_class=MarkdownResponse,
    responses=PAGE_ERRORS,  # not under /api/: errors are the site's error page
)
def paper_markdown(paper_id: str, feed: FeedDep) -> MarkdownResponse:
    """The paper page as markdown (``HfApi.read_paper``)."""
    paper, submission = feed.community.paper_for_reader(paper_id)
    page_url = links.paper_url(feed.settings.base_url, paper.id)
    return MarkdownResponse(serialize.paper_markdown(paper, page_url, submission))
