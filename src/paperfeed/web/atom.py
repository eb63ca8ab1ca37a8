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
from paperfeed.models import Paper, Submission
from paperfeed.web.api import search_papers
from paperfeed.web.deps import FeedDep
from paperfeed.web.errors import ErrorMappingRoute
from paperfeed.web.serialize import iso

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
FEED_LIMIT = 100
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

router = APIRouter(route_class=ErrorMappingRoute, tags=["feeds"])


def _text(value: str) -> str:
    return _XML_INVALID.sub("", value)


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = _text(text)
    return element


def _entry_updated(
    paper: Paper, submission: Submission | None, fallback: dt.datetime
) -> dt.datetime:
    return (
        (submission.submitted_at if submission else None)
        or paper.updated
        or paper.published
        or fallback
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
    """An Atom document whose entries are papers (id = the paper page address)."""
    entries = list(entries)
    now = dt.datetime.now(dt.UTC)
    stamps = [_entry_updated(p, s, now) for p, s in entries]
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _add(root, "id", self_url)
    _add(root, "title", title)
    if subtitle:
        _add(root, "subtitle", subtitle)
    _add(root, "updated", iso(max(stamps, key=_utc) if stamps else now))
    _add(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(root, "link", rel="alternate", type="text/html", href=page_url)
    _add(_add(root, "author"), "name", "paperfeed")
    _add(root, "generator", "paperfeed")
    for (paper, _), updated in zip(entries, stamps, strict=True):
        entry = _add(root, "entry")
        paper_page = links.paper_url(base_url, paper.id)
        _add(entry, "id", paper_page)
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
    return Response(body, media_type=ATOM_TYPE)


def _url(base_url: str, path: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{base_url}{path}" + (f"?{query}" if query else "")


@router.get("/feeds/daily.atom", response_class=Response)
def daily_feed(
    feed: FeedDep,
    date: str | None = Query(None, description="YYYY-MM-DD; default: the latest day"),
    week: str | None = Query(None, description="YYYY-Www"),
    month: str | None = Query(None, description="YYYY-MM"),
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


@router.get("/feeds/trending.atom", response_class=Response)
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


@router.get("/feeds/search.atom", response_class=Response)
def search_feed(
    feed: FeedDep,
    q: str = Query(..., description="search query"),
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
