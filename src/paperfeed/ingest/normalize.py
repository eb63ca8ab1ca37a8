"""Shared clean-up of what sources give us: ids, whitespace, dates, author lists."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from email.utils import parsedate_to_datetime

from dateutil import parser as date_parser

from paperfeed.errors import InvalidRecord

_WS = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """Collapse runs of whitespace (arXiv hard-wraps titles and abstracts) and strip."""
    if not text:
        return ""
    return _WS.sub(" ", unicodedata.normalize("NFC", str(text))).strip()


def collapse_space(text: str) -> str:
    """`clean_text` of a str, several times faster on long text (the bulk importers' hot path)."""
    if text.isascii():
        text = text.replace("\n", " ")
        if text.isprintable():  # no whitespace other than spaces left
            while "  " in text:
                text = text.replace("  ", " ")
            return text.strip(" ")
    return " ".join(unicodedata.normalize("NFC", text).split())


def optional_text(text: str | None) -> str | None:
    cleaned = clean_text(text)
    return cleaned or None


def local_id(title: str, authors: list[str] | None = None) -> str:
    """A stable id for a paper without an arXiv id: a hash of its title (+ first author)."""
    key = clean_text(title).casefold()
    key = "".join(ch for ch in unicodedata.normalize("NFKD", key) if ch.isalnum())
    if authors:
        key += "|" + clean_text(authors[0]).casefold()
    return "local:" + hashlib.sha1(key.encode()).hexdigest()[:16]


def parse_datetime(value: object, *, today: dt.date | None = None) -> dt.datetime | None:
    """Parse the date forms people and feeds write into an aware UTC datetime.

    Accepts ISO 8601 (``2024-03-16``, ``2024-03-16T10:00:00Z``), RFC 2822 (``Mon, 2 Apr 2007
    19:18:42 GMT``), ``Mar 16, 2024`` and ``Mar 16`` (= this year), and years as ints.
    Raises InvalidRecord when the value is not a date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _as_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, int) and 1000 < value < 3000:
        return dt.datetime(value, 1, 1, tzinfo=dt.UTC)
    text = clean_text(str(value))
    try:
        if re.match(r"^[A-Z][a-z]{2}, \d", text):
            return _as_utc(parsedate_to_datetime(text))
        today = today or dt.datetime.now(dt.UTC).date()
        default = dt.datetime(today.year, 1, 1)
        return _as_utc(date_parser.parse(text, default=default))
    except (ValueError, OverflowError, TypeError) as error:
        raise InvalidRecord(f"unreadable date {value!r}") from error


def _as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def split_authors(authors: str | list[object] | None) -> list[str]:
    """Authors as a list of names, from a list or from arXiv's ``A, B and C`` string."""
    if not authors:
        return []
    if isinstance(authors, list):
        names = [_author_name(a) for a in authors]
        return [n for n in names if n]
    text = clean_text(authors)
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+|;\s*", text)
    return [p.strip() for p in parts if p.strip()]


def _author_name(author: object) -> str:
    if isinstance(author, dict):
        return clean_text(str(author.get("name") or author.get("fullname") or ""))
    if isinstance(author, list | tuple):  # authors_parsed: [last, first, suffix]
        last, first, *rest = [*author, "", ""][:3]
        return clean_text(" ".join(p for p in (first, last, *rest) if p))
    return clean_text(str(author))


def split_categories(categories: str | list[str] | None) -> list[str]:
    if not categories:
        return []
    if isinstance(categories, str):
        return [c for c in categories.split() if c]
    return [clean_text(c) for c in categories if clean_text(c)]
