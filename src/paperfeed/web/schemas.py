"""The JSON API's shapes as pydantic models: what OpenAPI documents and schemathesis checks.

They mirror the Hugging Face Hub's ``/api/daily_papers`` and ``/api/papers/{id}`` answers
(web/serialize.py builds them): camelCase names as the Hub sends them, and a field we hold no
value for is left out rather than sent as ``null`` (so every optional field defaults to None and
routes answer with ``response_model_exclude_none``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Field names are the Hub's (camelCase, `_id`): they are the wire format, not Python style.
# What Hugging Face served for an imported paper or item is served back, keys it adds later too.
_HUB_FIELDS = ConfigDict(populate_by_name=True, serialize_by_alias=True, extra="allow")


class ApiSort(StrEnum):
    """The orders ``/api/daily_papers`` lists papers in."""

    published_at = "publishedAt"
    trending = "trending"
    upvotes = "upvotes"


# The periods a listing can name, as documented (listings.parse_period checks them, with the
# reason in its 400): days 0002-01-01 to 9998-12-31 (paperfeed.dates), ISO weeks (week 53 too,
# in the years that have one), months. At most one of date, week and month.
_YEARS = "(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
_MONTHS = "(0[1-9]|1[0-2])"
DAY_PARAM: dict[str, Any] = {
    "format": "date",
    "pattern": f"^{_YEARS}-{_MONTHS}-(0[1-9]|[12][0-9]|3[01])$",
    "examples": ["2024-05-27"],
}
WEEK_PARAM: dict[str, Any] = {  # from 0003: week 1 of 0002 may begin in 0001
    "pattern": f"^{_YEARS.replace('000[2-9]', '000[3-9]')}-W(0[1-9]|[1-4][0-9]|5[0-2])$",
    "examples": ["2024-W22"],
}
MONTH_PARAM: dict[str, Any] = {"pattern": f"^{_YEARS}-{_MONTHS}$", "examples": ["2024-05"]}
ONE_PERIOD = "; give at most one of date, week and month"
QUERY_PARAM: dict[str, Any] = {"pattern": r"\S", "examples": ["diffusion author:hinton"]}


class ErrorBody(BaseModel):
    """Every error the API and the feeds answer: the status code says which kind."""

    error: str = Field(description="what went wrong and, where possible, what to do")


class HubUser(BaseModel):
    """A submitter, as the Hub's user object (``user`` is what the client reads as username).

    For a paper imported from Hugging Face, the account it served (``avatarUrl`` and the
    ``is*`` flags as it gave them); for a local account, its name (``avatarUrl`` left out)."""

    model_config = _HUB_FIELDS

    id: str = Field(alias="_id")
    avatarUrl: str | None = None
    fullname: str = Field(description="the full name (a local account's is its user name)")
    name: str
    user: str
    type: str
    isPro: bool
    isHf: bool | None = None
    isHfAdmin: bool | None = None
    isMod: bool | None = None
    followerCount: int | None = None
    isUserFollowing: bool | None = None


class HubAccount(BaseModel):
    """An author's Hugging Face account (imported papers only)."""

    model_config = _HUB_FIELDS

    id: str | None = Field(None, alias="_id")
    avatarUrl: str | None = None
    fullname: str | None = None
    name: str | None = None
    user: str | None = None
    type: str | None = None
    isPro: bool | None = None


class HubOrganization(BaseModel):
    """The organization Hugging Face lists a paper (or its submitter) under."""

    model_config = _HUB_FIELDS

    id: str | None = Field(None, alias="_id")
    avatar: str | None = None
    fullname: str | None = None
    name: str | None = None


class PaperAuthor(BaseModel):
    model_config = _HUB_FIELDS

    id: str = Field(alias="_id")
    name: str
    hidden: bool
    user: HubAccount | None = Field(None, description="their Hub account (imported papers)")
    status: str | None = Field(None, description="claim status on the Hub (imported papers)")
    statusLastChangedAt: str | None = None


class PaperJson(BaseModel):
    """The flat paper object of ``/api/papers/{id}``, nested as ``paper`` in list items."""

    model_config = _HUB_FIELDS

    id: str = Field(description="arXiv id without version, or ``local:<hash>``")
    authors: list[PaperAuthor]
    publishedAt: str | None = Field(None, description="first version, ISO 8601 UTC")
    title: str
    summary: str = Field(description="the abstract")
    upvotes: int
    submittedOnDailyAt: str | None = None
    submittedOnDailyBy: HubUser | None = None
    updatedAt: str | None = Field(None, description="latest version, ISO 8601 UTC")
    categories: list[str] | None = None
    doi: str | None = None
    journalRef: str | None = None
    arxivComments: str | None = None
    arxivUrl: str | None = None
    pdfUrl: str | None = None
    githubRepo: str | None = Field(None, description="the code repository (normalised https URL)")
    projectPage: str | None = None
    ai_keywords: list[str] | None = Field(
        None, description="key phrases: Hugging Face's where it gave some, else computed here"
    )
    # Fields of papers imported from Hugging Face, as it served them:
    ai_summary: str | None = None
    ai_summary_model: str | None = None
    githubStars: int | None = None
    githubRepoAddedBy: str | None = None
    organization: HubOrganization | None = None
    mediaUrls: list[str] | None = None
    discussionId: str | None = None


class DailyPaperJson(BaseModel):
    """One element of ``/api/daily_papers`` and ``/api/papers/search`` lists."""

    model_config = _HUB_FIELDS

    paper: PaperJson
    publishedAt: str | None = Field(
        None, description="when the paper was submitted to the daily feed (else published)"
    )
    title: str
    summary: str
    numComments: int
    isAuthorParticipating: bool
    submittedBy: HubUser | None = None
    # Fields of items imported from Hugging Face, as it served them:
    thumbnail: str | None = None
    mediaUrl: str | None = None
    mediaUrls: list[str] | None = None
    organization: HubOrganization | None = None
    submitterOrganization: HubOrganization | None = None


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


def _text(media_type: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}


# A request declaring a body larger than PAPERFEED_MAX_BODY_BYTES gets the framework's answer.
_TOO_LARGE = _text("text/plain", "The request body is larger than PAPERFEED_MAX_BODY_BYTES.")
_MALFORMED = "A malformed parameter: the message says which and why."
_TOO_MANY = "Too many requests from this address (PAPERFEED_API_REQUESTS_PER_MINUTE)."
_NO_PAPER = "No such paper (or it is hidden)."

# The ``responses=`` of routes and routers: the errors each kind of route can answer.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error(_MALFORMED),
    413: _TOO_LARGE,
    429: _error(_TOO_MANY),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error(_NO_PAPER)}
# Feeds answer errors as JSON, not Atom: their schema is given with its media type.
FEED_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": _MALFORMED,
        "content": {"application/json": {"schema": ErrorBody.model_json_schema()}},
    },
    413: _TOO_LARGE,
}
# Routes outside /api/ and /feeds/ (the markdown) answer errors with the site's error page.
PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _text("text/html", _MALFORMED),
    404: _text("text/html", _NO_PAPER),
    413: _TOO_LARGE,
    429: _text("text/html", _TOO_MANY),
}
