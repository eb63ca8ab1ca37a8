"""Search and look up papers with the arXiv API (Atom feeds from export.arxiv.org/api/query)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import feedparser

from paperfeed.arxiv_ids import arxiv_links, parse_arxiv_id
from paperfeed.errors import InvalidRecord, NotFound
from paperfeed.ingest.base import Record, Source
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.ingest.normalize import clean_text, optional_text, parse_datetime
from paperfeed.models import Paper, SkippedRecord

log = logging.getLogger(__name__)

BASE_URL = "http://export.arxiv.org/api/query"
SOURCE = "arxiv-api"
EMPTY_PAGE_RETRIES = 2  # the API now and then answers a page with no entries; ask again
ID_CHUNK = 100  # ids per request in fetch_ids()


class UnknownPaper(NotFound, LookupError):
    """arXiv has no paper with this id (never had one, or it was withdrawn from the index)."""

    def __init__(self, message: str, ids: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.ids = list(ids)


def search(
    query: str | None = None,
    id_list: Sequence[str] | None = None,
    *,
    page_size: int = 100,
    max_results: int | None = None,
    delay: float = 3.0,
    base_url: str = BASE_URL,
    sort_by: str | None = None,
    sort_order: str | None = None,
    client: PoliteClient | None = None,
) -> Source:
    """Records for a search query and/or id list, fetched ``page_size`` at a time until
    ``opensearch:totalResults`` (or ``max_results``) is reached.

    ``delay`` applies when no ``client`` is given. Error entries inside a result page become
    SkippedRecords; a request arXiv rejects (HTTP 400 with an error entry) raises FetchError
    with arXiv's message.
    """
    if not query and not id_list:
        raise ValueError("search() needs a query or an id_list")
    http = client or PoliteClient(delay=delay)
    seen: set[str] = set()
    start = 0
    try:
        while max_results is None or start < max_results:
            size = page_size if max_results is None else min(page_size, max_results - start)
            params = {
                "search_query": query,
                "id_list": ",".join(id_list) if id_list else None,
                "start": start,
                "max_results": size,
                "sortBy": sort_by,
                "sortOrder": sort_order,
            }
            url, feed = _page(http, base_url, params)
            total = int(feed.feed.get("opensearch_totalresults") or 0)
            if not feed.entries:
                break
            for n, entry in enumerate(feed.entries, start=start + 1):
                parsed = parse_entry(entry, location=f"{url} entry {n}")
                if isinstance(parsed, Record):
                    if parsed.paper.id in seen:  # relevance order can shift between pages
                        continue
                    seen.add(parsed.paper.id)
                yield parsed
            start += len(feed.entries)
            log.info("%s: %d of %d results", url, start, total)
            if start >= total:
                break
    finally:
        if client is None:
            http.close()


def fetch_ids(
    ids: Sequence[str],
    *,
    base_url: str = BASE_URL,
    delay: float = 3.0,
    client: PoliteClient | None = None,
) -> list[Paper]:
    """The papers for arXiv ids (``2401.01234``, ``2401.01234v2``, ``arXiv:...``, abs URLs), in
    the order asked, one per distinct id. A version in the id fetches that version.

    Raises InvalidRecord for a string that is not an arXiv id, UnknownPaper (with ``.ids``)
    when arXiv has none of some of them, FetchError when arXiv cannot be reached.
    """
    wanted: dict[str, str] = {}  # canonical id -> id as sent to arXiv (keeps a version)
    for raw in ids:
        arxiv_id, version = parse_arxiv_id(raw)
        wanted.setdefault(arxiv_id, f"{arxiv_id}v{version}" if version else arxiv_id)
    found: dict[str, Paper] = {}
    http = client or PoliteClient(delay=delay)
    try:
        queries = list(wanted.values())
        for i in range(0, len(queries), ID_CHUNK):
            chunk = queries[i : i + ID_CHUNK]
            for parsed in search(id_list=chunk, page_size=ID_CHUNK, base_url=base_url, client=http):
                if isinstance(parsed, Record):
                    found[parsed.paper.id] = parsed.paper
                else:
                    log.warning("arXiv id lookup: %s", parsed)
    finally:
        if client is None:
            http.close()
    missing = [arxiv_id for arxiv_id in wanted if arxiv_id not in found]
    if missing:
        raise UnknownPaper(f"arXiv has no paper {', '.join(missing)}", missing)
    return [found[arxiv_id] for arxiv_id in wanted]


def parse_entry(entry: Any, *, location: str) -> Record | SkippedRecord:
    """A feedparser entry as a Record, or a SkippedRecord (an API error entry, a bad record)."""
    error = _error_message(entry)
    if error:
        return SkippedRecord(location, f"arXiv API error: {error}")
    try:
        return Record(_paper(entry))
    except InvalidRecord as failure:
        return SkippedRecord(location, str(failure))


def _paper(entry: Any) -> Paper:
    arxiv_id, version = parse_arxiv_id(entry.get("id") or "")
    title = clean_text(entry.get("title"))
    if not title:
        raise InvalidRecord("entry without title")
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    terms = [clean_text(tag.get("term")) for tag in entry.get("tags") or []]
    categories = [c for c in dict.fromkeys([primary, *terms]) if c]
    abs_url, pdf_url = arxiv_links(arxiv_id, version)
    return Paper(
        id=arxiv_id,
        title=title,
        abstract=clean_text(entry.get("summary")),
        version=version,
        authors=[n for n in (clean_text(a.get("name")) for a in entry.get("authors") or []) if n],
        primary_category=categories[0] if categories else None,
        categories=categories,
        published=parse_datetime(entry.get("published")),
        updated=parse_datetime(entry.get("updated")),
        doi=optional_text(entry.get("arxiv_doi")),
        journal_ref=optional_text(entry.get("arxiv_journal_ref")),
        comments=optional_text(entry.get("arxiv_comment")),
        abs_url=abs_url,
        pdf_url=pdf_url,
        source=SOURCE,
    )


def _error_message(entry: Any) -> str | None:
    """arXiv reports a bad request as an entry titled "Error" with an ``/api/errors#`` id."""
    if "/api/errors" in (entry.get("id") or ""):
        return clean_text(entry.get("summary")) or "unspecified error"
    return None


def _page(http: PoliteClient, base_url: str, params: dict[str, Any]) -> tuple[str, Any]:
    for attempt in range(EMPTY_PAGE_RETRIES + 1):
        try:
            response = http.get(base_url, params)
        except FetchError as error:
            raise _with_api_message(error) from error
        url = str(response.url)
        feed = feedparser.parse(response.content)
        if feed.bozo and not feed.entries and "opensearch_totalresults" not in feed.feed:
            raise FetchError(url, f"unreadable Atom feed: {feed.get('bozo_exception')}")
        total = int(feed.feed.get("opensearch_totalresults") or 0)
        if feed.entries or params["start"] >= total:
            return url, feed
        log.warning("%s: empty page of %d results (try %d)", url, total, attempt + 1)
    raise FetchError(url, f"empty page at start={params['start']} of {total} results")


def _with_api_message(error: FetchError) -> FetchError:
    """Replace "HTTP 400" by arXiv's own explanation when the body carries an error entry."""
    if not error.body:
        return error
    feed = feedparser.parse(error.body)
    messages = [m for m in (_error_message(e) for e in feed.entries) if m]
    if not messages:
        return error
    reason = f"arXiv API error: {'; '.join(messages)}"
    return FetchError(error.url, reason, status=error.status, body=error.body, code="api_error")
