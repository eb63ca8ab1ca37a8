"""arXiv's daily RSS listings (rss.arxiv.org/rss/<category>): the papers announced today."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser

from paperfeed.arxiv_ids import arxiv_links, parse_arxiv_id
from paperfeed.errors import InvalidRecord
from paperfeed.ingest.base import Record, Source
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.ingest.normalize import clean_text, parse_datetime, split_authors
from paperfeed.models import Paper, SkippedRecord

SOURCE = "arxiv-rss"
BASE_URL = "https://rss.arxiv.org/rss/"
_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*Abstract:\s*(?P<abstract>.*)$",
    re.S,
)


def read_rss(
    target: str | Path, *, delay: float = 3.0, client: PoliteClient | None = None
) -> Source:
    """Papers of an RSS listing: a saved file, a URL or a category name such as ``cs.CL``."""
    path = Path(target)
    if path.exists():
        document = feedparser.parse(path.read_bytes())
        location = str(path)
    else:
        url = str(target) if "://" in str(target) else BASE_URL + str(target)
        http = client or PoliteClient(delay=delay)
        document = feedparser.parse(http.get(url).content)
        location = url
    for _, parsed in _items(document, location):
        yield parsed


@dataclass(frozen=True, slots=True)
class Listing:
    """One announcement day's listing of a category or archive."""

    day: dt.date  # the day of the announcement, as arXiv dates it (its own time zone)
    records: list[Record | SkippedRecord]
    first_announced: frozenset[str]  # ids announced for the first time: new, or a v1 cross-list


def fetch_listing(category: str, *, base_url: str = BASE_URL, client: PoliteClient) -> Listing:
    """The latest listing of `category` (``cs.CL``, or an archive such as ``cs``). FetchError
    when the answer is not an arXiv RSS listing (no channel date, unreadable XML)."""
    url = base_url.rstrip("/") + "/" + category
    document = feedparser.parse(client.get(url).content)
    stamp = document.feed.get("published") or document.feed.get("updated")
    try:
        day = parsedate_to_datetime(stamp).date() if stamp else None
    except (TypeError, ValueError):
        day = None
    if day is None:
        problem = document.get("bozo_exception") or "no channel date"
        raise FetchError(url, f"not an arXiv RSS listing: {problem}")
    records: list[Record | SkippedRecord] = []
    first: set[str] = set()
    for kind, parsed in _items(document, url):
        records.append(parsed)
        if isinstance(parsed, Record) and kind in ("new", "cross") and parsed.paper.version == 1:
            first.add(parsed.paper.id)
    return Listing(day, records, frozenset(first))


def _items(document: Any, location: str) -> Iterator[tuple[str, Record | SkippedRecord]]:
    """(announce type, parsed item) for each item of a parsed feed ("" for a skipped one)."""
    announced = document.feed.get("published") or document.feed.get("updated")
    for number, entry in enumerate(document.entries, 1):
        match = _DESCRIPTION.match(entry.get("description") or entry.get("summary") or "")
        try:
            record = Record(paper_from_item(entry, announced=announced))
        except InvalidRecord as error:
            yield "", SkippedRecord(location=f"{location} item {number}", reason=str(error))
            continue
        yield (match.group("type") if match else ""), record


def paper_from_item(entry: Any, *, announced: str | None = None) -> Paper:
    """One RSS item; new (v1) papers get the announcement date as their first publication."""
    match = _DESCRIPTION.match(entry.get("description") or entry.get("summary") or "")
    if not match:
        raise InvalidRecord("item without 'arXiv:<id> Announce Type: ... Abstract:' description")
    arxiv_id, version = parse_arxiv_id(match.group("id"))
    title = clean_text(entry.get("title"))
    if not title:
        raise InvalidRecord("item without title")
    categories = [clean_text(t.get("term")) for t in entry.get("tags") or [] if t.get("term")]
    abs_url, pdf_url = arxiv_links(arxiv_id, version)
    is_new = match.group("type") == "new" and version == 1
    return Paper(
        id=arxiv_id,
        title=title,
        abstract=clean_text(match.group("abstract")),
        version=version,
        authors=split_authors(entry.get("author") or ""),
        primary_category=categories[0] if categories else None,
        categories=categories,
        published=parse_datetime(announced) if is_new else None,
        license=entry.get("rights"),
        abs_url=abs_url,
        pdf_url=pdf_url,
        source=SOURCE,
    )
