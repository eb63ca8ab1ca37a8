"""``POST /api/recommend``: the window's best papers for a list of papers given once.

The body is a JSON list of arXiv ids / DOIs / titles (``application/json``) or a library file
(``application/x-bibtex``, RIS, CSL-JSON or one id a line as ``text/plain``): the content type
decides. The answer is the list ``paperfeed recommend --json`` prints: id, title, score and
reason of each paper, best first. Nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from paperfeed.errors import Invalid
from paperfeed.recommend.for_library import MAX_ENTRIES, MAX_LIMIT
from paperfeed.web.deps import FeedDep, client_key, limit_api_rate, limiters
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.schemas import API_ERRORS

MAX_BODY_BYTES = 10 * 1024 * 1024  # a 10 MiB library file
# Content types and the file name (its extension) the library reader is told.
FILE_TYPES = {
    "application/x-bibtex": "library.bib",
    "text/x-bibtex": "library.bib",
    "application/x-research-info-systems": "library.ris",
    "application/vnd.citationstyles.csl+json": "library.json",
    "text/plain": "library.txt",
}

router = APIRouter(
    route_class=ErrorMappingRoute,
    tags=["api"],
    dependencies=[limit_api_rate],
    responses=API_ERRORS,
)


class RecommendationJson(BaseModel):
    id: str
    title: str
    score: float
    reason: str


@router.post(
    "/api/recommend",
    response_model=list[RecommendationJson],
    max_body_size=MAX_BODY_BYTES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "string"}}},
                **{kind: {"schema": {"type": "string"}} for kind in FILE_TYPES},
            },
        }
    },
)
async def recommend(
    request: Request,
    feed: FeedDep,
    since: Annotated[dt.date | None, Query(description="first day (default: 7 days ago)")] = None,
    until: Annotated[dt.date | None, Query(description="last day (default: today)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> list[dict[str, Any]]:
    """Rank the papers published from `since` to `until` for the papers in the body."""
    limiters(request).libraries.hit(client_key(request))
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if kind == "application/json":
        data, filename = _ids_as_lines(body), "ids.txt"
    elif kind in FILE_TYPES:
        data, filename = body, FILE_TYPES[kind]
    else:
        known = ", ".join(["application/json", *FILE_TYPES])
        raise Invalid(f"send the papers as one of {known}, not {kind or 'no content type'!r}")
    result = await run_in_threadpool(
        feed.recommend_library, data, filename, since=since, until=until, limit=limit
    )
    return [
        {"id": r.paper.id, "title": r.paper.title, "score": round(r.score, 4), "reason": r.reason}
        for r in result.recommendations
    ]


def _ids_as_lines(body: bytes) -> bytes:
    """A JSON list of ids, DOIs or titles as the one-a-line library format."""
    try:
        ids = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Invalid(f"the body is not JSON: {error}") from None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Invalid("the JSON body must be a list of arXiv ids, DOIs or titles (strings)")
    if len(ids) > MAX_ENTRIES:
        raise Invalid(f"at most {MAX_ENTRIES} papers")
    return "\n".join(" ".join(i.split()) for i in ids).encode()
