"""Hugging Face daily papers: saved ``/api/daily_papers`` responses, JSON-lines dumps, the API."""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import orjson

from paperfeed.arxiv_ids import arxiv_links, parse_arxiv_id
from paperfeed.code_links import project_page_url, repository_url
from paperfeed.errors import InvalidRecord
from paperfeed.ingest.base import Parsed, Record, Source
from paperfeed.ingest.files import open_binary
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.ingest.normalize import clean_text, parse_datetime, split_authors
from paperfeed.links import safe_url
from paperfeed.models import Paper, SkippedRecord, Submission

log = logging.getLogger(__name__)

SOURCE = "hf-daily"
HUB = "https://huggingface.co"  # what the Hub's site-relative links (/avatars/...) are under
# Keys of the Hub's paper object and daily item that Paper and Submission hold in their own
# fields; every other key is kept as served (their `hf` dicts).
PAPER_FIELDS = frozenset(
    {"id", "title", "summary", "publishedAt", "upvotes", "githubRepo", "projectPage"}
    | {"submittedOnDailyAt", "submittedOnDailyBy"}
)
ITEM_FIELDS = frozenset({"paper", "title", "summary", "publishedAt", "file_date"})
# Keys whose values are links: kept only when they pass the http(s) allow-list.
LINK_FIELDS = frozenset({"avatarUrl", "avatar", "thumbnail", "mediaUrl", "mediaUrls"})


def read_hf_daily(path: str | os.PathLike[str], *, day: dt.date | None = None) -> Source:
    """Records (paper + submission) of a saved daily-papers file, plain or gzip.

    Either one API response (a JSON list of items, or ``{"date", "data": [...]}``) or JSON lines
    of items (``*.jsonl*``, or a first line that is an item). An item's day is its
    ``submittedOnDailyAt``, else its ``file_date``, else `day`, else the date in the file name
    (``2024-12-11.json``), else the day of the item's ``publishedAt``.
    """
    day = day or _date_in_name(path)
    with open_binary(path) as stream:
        first = stream.readline()
        try:
            head = orjson.loads(first)
        except orjson.JSONDecodeError:
            head = None
        if ".jsonl" in Path(path).name or (isinstance(head, dict) and "paper" in head):
            yield from _items_of_lines(path, first, stream, day)
            return
        document = first + stream.read()
    try:
        obj = orjson.loads(document)
    except orjson.JSONDecodeError as error:
        yield SkippedRecord(str(path), f"invalid JSON: {error}")
        return
    yield from iter_hf_daily_items(obj, day=day, location=str(path))


def iter_hf_daily_items(obj: object, *, day: dt.date | None = None, location: str = "") -> Source:
    """Records of a loaded ``/api/daily_papers`` response (a list, or a dict with ``data``)."""
    if isinstance(obj, dict):
        if day is None and isinstance(obj.get("date"), str):
            day = _iso_date(obj["date"])
        obj = obj.get("data")
    if not isinstance(obj, list):
        yield SkippedRecord(location, "not a list of daily papers")
        return
    for index, item in enumerate(obj):
        yield _parse(item, day, f"{location}#item {index}")


def fetch_hf_daily(
    date: dt.date | str,
    *,
    endpoint: str = "https://huggingface.co",
    client: httpx.Client | None = None,
) -> Source:
    """Records of the live ``GET /api/daily_papers?date=YYYY-MM-DD`` (raises httpx errors)."""
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(date)
    url = f"{endpoint.rstrip('/')}/api/daily_papers"
    owned = client is None
    client = client or httpx.Client(timeout=30.0, follow_redirects=True)
    try:
        response = client.get(url, params={"date": day.isoformat()})
        response.raise_for_status()
        obj = response.json()
    finally:
        if owned:
            client.close()
    log.info("hf daily %s: %d items", day, len(obj) if isinstance(obj, list) else -1)
    yield from iter_hf_daily_items(obj, day=day, location=str(response.url))


def fetch_hf_day(
    day: dt.date, *, endpoint: str = "https://huggingface.co", client: PoliteClient
) -> list[Parsed]:
    """The records of one day of ``GET /api/daily_papers?date=`` through `client` (retries,
    delays); FetchError when the Hub cannot be reached or answers something that is not JSON."""
    url = f"{endpoint.rstrip('/')}/api/daily_papers"
    response = client.get(url, {"date": day.isoformat()})
    try:
        obj = orjson.loads(response.content)
    except orjson.JSONDecodeError as error:
        raise FetchError(str(response.url), f"not a daily papers answer: {error}") from None
    items = obj.get("data") if isinstance(obj, dict) else obj
    if not isinstance(items, list):
        raise FetchError(str(response.url), f"not a daily papers answer: {str(obj)[:200]}")
    log.info("hf daily %s: %d items", day, len(items))
    return list(iter_hf_daily_items(obj, day=day, location=str(response.url)))


def _items_of_lines(
    path: str | os.PathLike[str], first: bytes, rest: Iterable[bytes], day: dt.date | None
) -> Source:
    for lineno, line in enumerate(itertools.chain([first], rest), 1):
        if line.isspace() or not line:
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield SkippedRecord(f"{path}:{lineno}", f"invalid JSON: {error}")
            continue
        yield _parse(item, day, f"{path}:{lineno}")


def _parse(item: object, day: dt.date | None, location: str) -> Record | SkippedRecord:
    try:
        return _record(_as_item(item), day)
    except InvalidRecord as error:
        return SkippedRecord(location, str(error))


def _as_item(item: object) -> dict:
    """The item as a dict; some saved responses hold Python reprs (``"{'paper': ...}"``)."""
    if isinstance(item, str):
        try:
            item = ast.literal_eval(item)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise InvalidRecord("unreadable item (neither JSON nor a Python literal)") from None
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise InvalidRecord("item without a paper")
    return item


def _record(item: dict, day: dt.date | None) -> Record:
    paper = item["paper"]
    if isinstance(item.get("file_date"), str):
        day = _iso_date(item["file_date"])
    raw_id = paper.get("id")
    if not isinstance(raw_id, str) or not raw_id:
        raise InvalidRecord("missing paper id")
    arxiv_id, version = parse_arxiv_id(raw_id)
    title = clean_text(paper.get("title") or item.get("title"))
    if not title:
        raise InvalidRecord("missing title")
    abstract = clean_text(paper.get("summary") or item.get("summary"))
    if not abstract:
        raise InvalidRecord("missing abstract")
    abs_url, pdf_url = arxiv_links(arxiv_id, version)
    github = paper.get("githubRepo")
    project = paper.get("projectPage")
    record = Paper(
        id=arxiv_id,
        title=title,
        abstract=abstract,
        version=version,
        authors=split_authors(paper.get("authors")),
        published=parse_datetime(paper.get("publishedAt")),
        abs_url=abs_url,
        pdf_url=pdf_url,
        source=SOURCE,
        code_url=repository_url(github) if isinstance(github, str) else None,
        project_url=project_page_url(project) if isinstance(project, str) else None,
        hf=hub_fields({k: v for k, v in paper.items() if k not in PAPER_FIELDS}),
    )
    return Record(paper=record, submission=_submission(item, arxiv_id, day))


def _submission(item: dict, paper_id: str, day: dt.date | None) -> Submission:
    """When, by whom and with how many upvotes the paper was put on the daily page.

    Newer responses say ``paper.submittedOnDailyAt``/``submittedOnDailyBy``; older ones only have
    the item's ``publishedAt`` (the submission time) and ``submittedBy``.
    """
    paper = item["paper"]
    on_daily = parse_datetime(paper.get("submittedOnDailyAt") or item.get("submittedOnDailyAt"))
    listed = parse_datetime(item.get("publishedAt"))
    if on_daily is not None:
        day, submitted_at = on_daily.date(), on_daily
    elif day is not None:
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        submitted_at = listed if listed is not None and listed.date() == day else midnight
    elif listed is not None:
        day, submitted_at = listed.date(), listed
    else:
        raise InvalidRecord("no submission date")
    upvotes = paper.get("upvotes")
    extras = {k: v for k, v in item.items() if k not in ITEM_FIELDS}
    if isinstance(paper.get("submittedOnDailyBy"), dict):
        extras["submittedOnDailyBy"] = paper["submittedOnDailyBy"]
    return Submission(
        paper_id=paper_id,
        day=day,
        submitted_at=submitted_at,
        submitter=_submitter(paper.get("submittedOnDailyBy") or item.get("submittedBy")),
        imported_upvotes=upvotes if isinstance(upvotes, int) and upvotes > 0 else 0,
        source=SOURCE,
        listed_at=listed,
        hf=hub_fields(extras),
    )


def hub_fields(value: Any) -> Any:
    """The Hub's fields as served, less what is unknown (``null``, ``""``) and links that are
    not http(s) (site-relative ones, ``/avatars/...``, are made absolute under the Hub)."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if key in LINK_FIELDS:
                item = _links(item)
            item = hub_fields(item)
            if item is not None and item != "":
                kept[str(key)] = item
        return kept
    if isinstance(value, list):
        return [v for v in map(hub_fields, value) if v is not None and v != ""]
    return value


def _links(value: Any) -> Any:
    if isinstance(value, list):
        return [link for link in map(_link, value) if link]
    return _link(value)


def _link(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if value.startswith("/") and not value.startswith("//"):
        value = HUB + value
    return safe_url(value)


def _submitter(user: object) -> str | None:
    if not isinstance(user, dict):
        return None
    name = user.get("user") or user.get("name") or user.get("fullname")
    return (clean_text(str(name)) or None) if name else None


def _date_in_name(path: str | os.PathLike[str]) -> dt.date | None:
    stem = Path(path).name.split(".")[0]
    try:
        return dt.date.fromisoformat(stem)
    except ValueError:
        return None


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise InvalidRecord(f"unreadable date {text!r}") from None
