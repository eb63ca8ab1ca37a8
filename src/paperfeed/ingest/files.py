"""Papers from local files: JSON lines and BibTeX, plain or gzip (detected by magic bytes)."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import logging
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import bibtexparser
import orjson
from bibtexparser.library import Library
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts
from bibtexparser.model import Entry

from paperfeed.arxiv_ids import arxiv_links, parse_arxiv_id
from paperfeed.errors import InvalidRecord
from paperfeed.ingest.base import Record, Source
from paperfeed.ingest.latex import has_latex, latex_to_text
from paperfeed.ingest.normalize import (
    clean_text,
    collapse_space,
    local_id,
    optional_text,
    parse_datetime,
    split_authors,
    split_categories,
)
from paperfeed.links import safe_url
from paperfeed.models import Paper, SkippedRecord

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
_ID_KEYS = ("arxiv_id", "arxiv", "eprint", "id", "url", "abs_url", "doi")
_DATE_KEYS = ("published", "date", "listed", "listed_date", "publishedAt", "year")
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(?P<id>\S+)", re.IGNORECASE)
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s/]*(?P<id>\d{4}\.\d{4,5}(?:v\d+)?)", re.IGNORECASE)
# "Mar 16" / "Oct 31, 2024" followed by a stray count, as scraped listing pages give them.
_LISTED_WITH_COUNT = re.compile(r"^([A-Z][a-z]{2} \d{1,2}(?:, \d{4})?) \d{1,3}$")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@contextmanager
def open_binary(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A buffered binary stream of the file, decompressed when it starts with the gzip magic."""
    with open(path, "rb") as raw:
        if raw.peek(2)[:2] == GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield io.BufferedReader(unzipped, buffer_size=1 << 20)
        else:
            yield raw


@contextmanager
def open_text(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Like `open_binary`, decoded as UTF-8 (undecodable bytes replaced)."""
    with open_binary(path) as stream:
        yield io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None)


# --- JSON lines -------------------------------------------------------------------------------


def read_jsonl(path: str | os.PathLike[str], *, source: str = "jsonl") -> Source:
    """Papers from JSON lines with at least ``title`` and ``abstract`` (see `paper_from_dict`)."""
    with open_binary(path) as stream:
        for lineno, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
                if not isinstance(row, dict):
                    raise InvalidRecord("not a JSON object")
                yield Record(paper_from_dict(row, source=source))
            except orjson.JSONDecodeError as error:
                yield SkippedRecord(f"{path}:{lineno}", f"invalid JSON: {error}")
            except InvalidRecord as error:
                yield SkippedRecord(f"{path}:{lineno}", str(error))


def paper_from_dict(row: dict, *, source: str = "jsonl") -> Paper:
    """A Paper from the loose keys people write; only title and abstract are required.

    The id comes from the first of ``arxiv_id, arxiv, eprint, id, url, abs_url, doi`` that holds
    an arXiv id (with version, or an arXiv URL), else it is `local_id(title, authors)`.
    """
    title = collapse_space(_as_text(row.get("title")))
    if not title:
        raise InvalidRecord("missing title")
    abstract = collapse_space(_as_text(row.get("abstract") or row.get("summary")))
    if not abstract:
        raise InvalidRecord("missing abstract")
    authors = _names(split_authors(row.get("authors")))
    categories = split_categories(row.get("categories"))
    paper_id, version, abs_url, pdf_url = _identity(
        _arxiv_id_of(row),
        title,
        authors,
        optional_text(_as_text(row.get("url") or row.get("abs_url"))),
        optional_text(_as_text(row.get("pdf_url") or row.get("pdf"))),
    )
    if version is None and isinstance(row.get("version"), int):
        version = row["version"]
    return Paper(
        id=paper_id,
        title=title,
        abstract=abstract,
        version=version,
        authors=authors,
        n_authors=_int(row.get("n_authors")),
        primary_category=optional_text(row.get("primary_category"))
        or (categories[0] if categories else None),
        categories=categories,
        published=_first_date(row, _DATE_KEYS),
        updated=_first_date(row, ("updated",)),
        doi=optional_text(_as_text(row.get("doi"))),
        journal_ref=optional_text(
            _as_text(row.get("journal_ref") or row.get("journal-ref") or row.get("venue"))
        ),
        comments=optional_text(_as_text(row.get("comments") or row.get("comment"))),
        license=optional_text(_as_text(row.get("license"))),
        abs_url=abs_url,
        pdf_url=pdf_url,
        source=source,
    )


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # e.g. "comments": ["12 pages", "3 figures"]
        return "; ".join(str(v) for v in value if v)
    return str(value)


def _names(names: list[str]) -> list[str]:
    return [latex_to_text(n) if has_latex(n) else n for n in names]


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _arxiv_id_of(row: dict) -> tuple[str, int | None] | None:
    for key in _ID_KEYS:
        value = row.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        if key == "doi":
            match = _ARXIV_DOI.search(value)
            if not match:
                continue
            value = match.group("id")
        try:
            return parse_arxiv_id(value)
        except InvalidRecord:
            continue
    return None


def _first_date(row: dict, keys: tuple[str, ...]) -> dt.datetime | None:
    """The first readable date under `keys`; an unreadable one is logged and ignored."""
    for key in keys:
        value = row.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            value = _LISTED_WITH_COUNT.sub(r"\1", value.strip())
            try:  # the common ISO case, without dateutil
                parsed = dt.datetime.fromisoformat(value)
                return (
                    parsed.replace(tzinfo=dt.UTC)
                    if parsed.tzinfo is None
                    else parsed.astimezone(dt.UTC)
                )
            except ValueError:
                pass
        try:
            return parse_datetime(value)
        except InvalidRecord as error:
            log.debug("ignoring %s=%r: %s", key, value, error)
    return None


# --- BibTeX -----------------------------------------------------------------------------------


def read_bibtex(path: str | os.PathLike[str], *, source: str = "bibtex") -> Source:
    """Papers from a BibTeX file, one ``@entry`` at a time; entries without an abstract are skipped.

    Names and titles lose their braces and LaTeX accents; ``@string`` macros are honoured.
    """
    with open_text(path) as stream:
        for start, library in parse_bibtex_blocks(stream):
            for block in library.failed_blocks:
                yield SkippedRecord(
                    f"{path}:{start}", f"malformed BibTeX entry ({type(block).__name__})"
                )
            for entry in library.entries:
                try:
                    yield Record(paper_from_bibtex(entry, source=source))
                except InvalidRecord as error:
                    yield SkippedRecord(f"{path}:{start}", f"{entry.key}: {error}")


def parse_bibtex_blocks(lines: Iterable[str]) -> Iterator[tuple[int, Library]]:
    """(first line number, parsed block) of each ``@entry`` block of BibTeX text, one at a time
    (memory stays bounded); ``@string`` macros are honoured, comments and preambles skipped."""
    strings: list[str] = []
    for start, chunk in _bibtex_chunks(lines):
        head = chunk.lstrip()[:8].lower()
        if head.startswith("@string"):
            strings.append(chunk)
        if not head.startswith("@") or head.startswith(("@string", "@comment", "@preamble")):
            continue
        text = "".join(strings) + chunk
        middleware = [SeparateCoAuthors(), SplitNameParts()]
        yield start, bibtexparser.parse_string(text, append_middleware=middleware)


def _bibtex_chunks(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each block that starts with ``@`` at the start of a line."""
    block: list[str] = []
    start = 1
    for lineno, line in enumerate(lines, 1):
        if line.lstrip().startswith("@") and block:
            yield start, "".join(block)
            block, start = [], lineno
        block.append(line)
    if block:
        yield start, "".join(block)


@dataclass(frozen=True, slots=True)
class BibtexReference:
    """What a BibTeX entry says about a paper it cites (nothing is required; empty when
    absent): the reading of a reference manager's export."""

    key: str
    title: str
    abstract: str
    authors: list[str]
    arxiv_id: str | None
    doi: str | None
    year: int | None


def bibtex_reference(entry: Entry) -> BibtexReference:
    """The reference an entry parsed by `parse_bibtex_blocks` describes (braces and LaTeX
    accents decoded)."""
    fields = {f.key.lower(): f.value for f in entry.fields}
    arxiv = _bibtex_arxiv_id(fields)
    year = _field(fields, "year").strip("{} ")
    return BibtexReference(
        key=entry.key,
        title=latex_to_text(_field(fields, "title")),
        abstract=clean_text(_field(fields, "abstract")),
        authors=_bibtex_names(fields.get("author")),
        arxiv_id=arxiv[0] if arxiv else None,
        doi=optional_text(_field(fields, "doi")),
        year=int(year) if year.isdigit() and len(year) == 4 else None,
    )


def paper_from_bibtex(entry: Entry, *, source: str = "bibtex") -> Paper:
    """A Paper from a parsed entry (authors already split into NameParts)."""
    fields = {f.key.lower(): f.value for f in entry.fields}
    title = latex_to_text(_field(fields, "title"))
    if not title:
        raise InvalidRecord("missing title")
    abstract = clean_text(_field(fields, "abstract"))
    if not abstract:
        raise InvalidRecord("missing abstract")
    authors = _bibtex_names(fields.get("author"))
    paper_id, version, abs_url, pdf_url = _identity(
        _bibtex_arxiv_id(fields), title, authors, optional_text(_field(fields, "url")), None
    )
    journal = _field(fields, "journal") or _field(fields, "booktitle")
    categories = split_categories(_field(fields, "primaryclass"))
    return Paper(
        id=paper_id,
        title=title,
        abstract=abstract,
        version=version,
        authors=authors,
        primary_category=categories[0] if categories else None,
        categories=categories,
        published=_bibtex_date(fields),
        doi=optional_text(_field(fields, "doi")),
        journal_ref=latex_to_text(journal) or None,
        comments=optional_text(_field(fields, "note")),
        abs_url=abs_url,
        pdf_url=pdf_url,
        source=source,
    )


def _field(fields: dict[str, object], key: str) -> str:
    value = fields.get(key)
    return value if isinstance(value, str) else ""


def _identity(
    arxiv: tuple[str, int | None] | None,
    title: str,
    authors: list[str],
    abs_url: str | None,
    pdf_url: str | None,
) -> tuple[str, int | None, str | None, str | None]:
    """(id, version, abstract link, PDF link): from the arXiv id when the record has one, else a
    local id made from title and first author, with the record's own links where they are
    http(s) (a ``javascript:`` or ``data:`` link is dropped; the rest of the record is fine)."""
    if arxiv:
        paper_id, version = arxiv
        return (paper_id, version, *arxiv_links(paper_id, version))
    return local_id(title, authors), None, safe_url(abs_url), safe_url(pdf_url)


def _bibtex_names(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return _names(split_authors(value))
    names = []
    for parts in value:
        words = [*parts.first, *parts.von, *parts.last, *parts.jr]
        name = latex_to_text(" ".join(words))
        if name:
            names.append(name)
    return names


def _bibtex_arxiv_id(fields: dict[str, object]) -> tuple[str, int | None] | None:
    prefix = (_field(fields, "archiveprefix") or _field(fields, "eprinttype")).lower()
    eprint = _field(fields, "eprint")
    if eprint and (prefix == "arxiv" or not prefix):
        try:
            return parse_arxiv_id(eprint)
        except InvalidRecord:
            pass
    doi = _ARXIV_DOI.search(_field(fields, "doi"))
    candidates = [doi.group("id")] if doi else []
    candidates.append(_field(fields, "url"))
    for key in ("journal", "note", "howpublished"):
        match = _ARXIV_IN_TEXT.search(_field(fields, key))
        if match:
            candidates.append(match.group("id"))
    for candidate in candidates:
        if candidate:
            try:
                return parse_arxiv_id(candidate)
            except InvalidRecord:
                continue
    return None


def _bibtex_date(fields: dict[str, object]) -> dt.datetime | None:
    year = _field(fields, "year").strip("{} ")
    if not year.isdigit():
        date = _field(fields, "date")
        return _first_date({"date": date}, ("date",)) if date else None
    month_text = _field(fields, "month").strip("{} ").lower()
    if month_text.isdigit() and 1 <= int(month_text) <= 12:
        month = int(month_text)
    elif month_text[:3] in _MONTH_NAMES:
        month = _MONTH_NAMES.index(month_text[:3]) + 1
    else:
        month = 1
    return dt.datetime(int(year), month, 1, tzinfo=dt.UTC)
