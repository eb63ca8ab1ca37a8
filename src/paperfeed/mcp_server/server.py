"""The MCP server: five read-only tools over one PaperFeed, typed in and out.

Each tool is one PaperFeed call, as a web route is; a PaperfeedError (unknown paper, malformed
date...) becomes an MCP tool error with its message, never a crash of the server.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from paperfeed import listings
from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid, PaperfeedError
from paperfeed.mcp_server.models import (
    DailyPapers,
    PaperOut,
    SearchResults,
    SimilarPapers,
    TrendingPaper,
    TrendingPapers,
)
from paperfeed.query import parse_query

MAX_LIMIT = 100
INSTRUCTIONS = (
    "Research papers from arXiv and Hugging Face's daily papers, with community upvotes. "
    'search_papers finds papers (query language: "phrase", -word, author:name, cat:cs.CL, '
    "after:2024-01, year:2023); get_paper reads one by arXiv id; similar_papers finds papers "
    "like one; daily_papers lists a day's (week's, month's) papers; trending_papers ranks "
    "recent ones by upvotes and age."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}")]
PaperId = Annotated[str, Field(min_length=1, description="arXiv id such as 2401.01234 or URL")]

P = ParamSpec("P")
R = TypeVar("R")


def tool_errors(function: Callable[P, R]) -> Callable[P, R]:
    """`function` with paperfeed's errors turned into MCP tool errors (their message kept)."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except PaperfeedError as error:
            raise ToolError(str(error)) from error

    return call


def create_mcp_server(feed: PaperFeed) -> MCPServer:
    """The MCP server whose tools answer from `feed`."""
    # the SDK configures logging unless the process did: WARNING, like Python's default
    server = MCPServer("paperfeed", instructions=INSTRUCTIONS, log_level="WARNING")
    base_url = feed.settings.base_url

    @server.tool(annotations=READ_ONLY)
    @tool_errors
    def search_papers(
        query: Annotated[str, Field(description="keywords, phrases, filters; not blank")],
        limit: Limit = 10,
    ) -> SearchResults:
        """Search papers by meaning and keywords; best match first."""
        if not query.strip():
            raise Invalid("the search query is empty")
        results = feed.search(parse_query(query, limit=limit))
        papers = [hit.paper for hit in results.hits]
        submissions = feed.community.visible_submissions([p.id for p in papers])
        return SearchResults(
            query=query,
            papers=[PaperOut.of(p, base_url, submissions.get(p.id)) for p in papers],
            note=results.message,
        )

    @server.tool(annotations=READ_ONLY)
    @tool_errors
    def get_paper(paper_id: PaperId) -> PaperOut:
        """One paper: title, authors, abstract, links, upvotes and its daily feed."""
        paper, submission = feed.community.paper_for_reader(paper_id)
        return PaperOut.of(paper, base_url, submission)

    @server.tool(annotations=READ_ONLY)
    @tool_errors
    def similar_papers(paper_id: PaperId, limit: Limit = 10) -> SimilarPapers:
        """Papers most like the given one (by their embeddings)."""
        paper, _ = feed.community.paper_for_reader(paper_id)
        similar = feed.similar(paper.id, limit=limit)
        submissions = feed.community.visible_submissions([p.id for p in similar])
        return SimilarPapers(
            paper_id=paper.id,
            papers=[PaperOut.of(p, base_url, submissions.get(p.id)) for p in similar],
        )

    @server.tool(annotations=READ_ONLY)
    @tool_errors
    def daily_papers(
        date: Annotated[str | None, Field(description="a day, YYYY-MM-DD")] = None,
        week: Annotated[str | None, Field(description="an ISO week, YYYY-Www")] = None,
        month: Annotated[str | None, Field(description="a month, YYYY-MM")] = None,
        sort: Literal["upvotes", "trending", "publishedAt"] = "upvotes",
        limit: Limit = 20,
    ) -> DailyPapers:
        """The papers of one day's feed (or a week's or month's; at most one of them; default:
        the latest day), most upvoted first unless `sort` says otherwise."""
        period = listings.parse_period(date, week, month, default_day=feed.latest_day())
        if not (date or week or month):
            date = period.start.isoformat()
        request = listings.DailyPapersRequest(date, week, month, sort=sort, limit=limit)
        items = feed.daily_papers(request)
        return DailyPapers(
            period=period.label,
            sort=sort,
            papers=[PaperOut.of(i.paper, base_url, i.submission, i.upvotes) for i in items],
        )

    @server.tool(annotations=READ_ONLY)
    @tool_errors
    def trending_papers(limit: Limit = 20) -> TrendingPapers:
        """Recent papers ranked by upvotes against age (the site's /trending)."""
        trending = feed.trending(limit=limit)
        papers = [TrendingPaper.of_trending(t, base_url) for t in trending.items]
        return TrendingPapers(
            as_of=trending.as_of.isoformat(), window_days=trending.window_days, papers=papers
        )

    return server
