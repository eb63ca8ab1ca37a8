"""Atom feeds (RFC 4287, built with lxml) of the daily papers, trending papers and searches."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response
from lxml import etree

from paperfeed import links, listings
from paperfeed.core import PaperFeed
from paperfeed.models import Paper, Submission
from paperfeed.query import parse_query
from paperfeed.web.api import search_papers
from paperfeed.web.deps import FeedDep
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.schemas import (
    DAY_PARAM,
    FEED_ERRORS,
    MONTH_PARAM,
    ONE_PERIOD,
    QUERY_PARAM,
    WEEK_PARAM,
)
from paperfeed.web.serialize import iso

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
FEED_LIMIT = 100
NO_DATE = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # `updated` of an entry (or feed) without one
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class AtomResponse(Response):
    media_type = ATOM_TYPE


router = APIRouter(
    route_class=ErrorMappingRoute,
    tags=["feeds"],
    default_response_class=AtomResponse,
    responses=FEED_ERRORS,
)


def _text(value: str) -> str:
    return _XML_INVALID.sub("", value)


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = _text(text)
    return element


def _entry_updated(paper: Paper, submission: Submission | None) -> dt.datetime:
    """The paper's own last change (its latest version, else its first), never the time of
    the request: a reader's feed shows a paper as new once. Records without dates: when the
    paper came to the feed, else NO_DATE."""
    return (
        paper.updated
        or paper.published
        or (submission.submitted_at if submission else None)
        or NO_DATE
    )


def atom_feed(
    *,
    title: str,
    self_url: str,
    page_url: str,
    base_url: str,
    entries: Iterable[tuple[Paper, Submission | None]],
    subtitle: str | None = None,
) -> bytes:
    """An Atom document whose entries are papers. Ids do not depend on `base_url` (see
    links.atom_id); the feed's `updated` is its newest entry's."""
    entries = list(entries)
    stamps = [_entry_updated(p, s) for p, s in entries]
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _add(root, "id", links.atom_id(self_url.removeprefix(base_url)))
    _add(root, "title", title)
    if subtitle:
        _add(root, "subtitle", subtitle)
    _add(root, "updated", iso(max(stamps, key=_utc) if stamps else NO_DATE))
    _add(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(root, "link", rel="alternate", type="text/html", href=page_url)
    _add(_add(root, "author"), "name", "paperfeed")
    _add(root, "generator", "paperfeed")
    for (paper, _), updated in zip(entries, stamps, strict=True):
        entry = _add(root, "entry")
        paper_page = links.paper_url(base_url, paper.id)
        _add(entry, "id", links.paper_atom_id(paper))
        _add(entry, "title", paper.title or paper.id)
        _add(entry, "updated", iso(updated))
        if paper.published:
            _add(entry, "published", iso(paper.published))
        for name in paper.authors:
            _add(_add(entry, "author"), "name", name)
        _add(entry, "link", rel="alternate", type="text/html", href=paper_page)
        abs_url, pdf_url = links.source_links(paper)
        if abs_url:
            _add(entry, "link", rel="related", type="text/html", title="abstract", href=abs_url)
        if pdf_url:
            _add(entry, "link", rel="related", type="application/pdf", title="pdf", href=pdf_url)
        for category in paper.categories:
            _add(entry, "category", term=category)
        _add(entry, "summary", paper.abstract or paper.title, type="text")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _atom(body: bytes) -> Response:
    return AtomResponse(body)


def _url(base_url: str, path: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{base_url}{path}" + (f"?{query}" if query else "")


@router.get("/feeds/daily.atom")
def daily_feed(
    feed: FeedDep,
    date: str | None = Query(
        None,
        description="YYYY-MM-DD; default: the latest day" + ONE_PERIOD,
        json_schema_extra=DAY_PARAM,
    ),
    week: str | None = Query(
        None, description="YYYY-Www" + ONE_PERIOD, json_schema_extra=WEEK_PARAM
    ),
    month: str | None = Query(
        None, description="YYYY-MM" + ONE_PERIOD, json_schema_extra=MONTH_PARAM
    ),
) -> Response:
    """The papers of one day (week, month), most upvoted first."""
    period = listings.parse_period(date, week, month, default_day=feed.latest_day())
    items = feed.listing(period, sort="upvotes", limit=FEED_LIMIT).items
    name, value = period.param
    base = feed.settings.base_url
    return _atom(
        atom_feed(
            title=f"Daily papers: {period.label}",
            self_url=_url(base, "/feeds/daily.atom", date=date, week=week, month=month),
            page_url=_url(base, "/", **{name: value}),
            base_url=base,
            entries=((i.paper, i.submission) for i in items),
        )
    )


@router.get("/feeds/trending.atom")
def trending_feed(feed: FeedDep) -> Response:
    """Trending papers of the last `trending_window_days` days."""
    result = feed.trending(limit=FEED_LIMIT)
    base = feed.settings.base_url
    subtitle = f"as of {result.as_of:%Y-%m-%d}" if result.archived else None
    return _atom(
        atom_feed(
            title="Trending papers",
            subtitle=subtitle,
            self_url=_url(base, "/feeds/trending.atom"),
            page_url=_url(base, "/trending"),
            base_url=base,
            entries=((t.item.paper, t.item.submission) for t in result.items),
        )
    )


@router.get("/feeds/search.atom")
def search_feed(
    feed: FeedDep,
    q: str = Query(..., description="search query, not blank", json_schema_extra=QUERY_PARAM),
    limit: int = Query(50, ge=1, description=f"at most {FEED_LIMIT} entries"),
) -> Response:
    """Search results as a feed, to follow a topic."""
    results = search_papers(feed, q, min(limit, FEED_LIMIT))
    base = feed.settings.base_url
    return _atom(
        atom_feed(
            title=f"Papers matching “{q}”",
            self_url=_url(base, "/feeds/search.atom", q=q),
            page_url=_url(base, "/search", q=q),
            base_url=base,
            entries=results,
        )
    )


def _newest(
    feed: PaperFeed, *, category: str | None = None, author: str | None = None
) -> list[tuple[Paper, Submission | None]]:
    """The newest visible papers of a category or an author."""
    query = parse_query("", category=category, author=author, sort="date", limit=FEED_LIMIT)
    papers = [hit.paper for hit in feed.search(query, mode="keyword").hits]
    submissions = feed.community.visible_submissions([p.id for p in papers])
    return [(paper, submissions.get(paper.id)) for paper in papers]


@router.get("/feeds/category/{category}.atom")
def category_feed(feed: FeedDep, category: str) -> Response:
    """The newest papers of an arXiv category (``cs.CL``) or archive (``cs``)."""
    base = feed.settings.base_url
    return _atom(
        atom_feed(
            title=f"Papers in {category}",
            self_url=base + links.category_feed_path(category),
            page_url=_url(base, "/search", category=category, sort="date"),
            base_url=base,
            entries=_newest(feed, category=category),
        )
    )


@router.get("/feeds/author/{name}.atom")
def author_feed(feed: FeedDep, name: str) -> Response:
    """The newest papers of an author, by the name as the papers spell it."""
    base = feed.settings.base_url
    return _atom(
        atom_feed(
            title=f"Papers by {name}",
            self_url=base + links.author_feed_path(name),
            page_url=base + links.author_path(name),
            base_url=base,
            entries=_newest(feed, author=name),
        )
    )
