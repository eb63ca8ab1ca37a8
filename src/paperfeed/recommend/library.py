"""A reader's library file: BibTeX, RIS, CSL-JSON (Zotero, Mendeley...) or one arXiv id, DOI or
title a line, read into `LibraryEntry` records.

The format is told by the content (``@`` entries, ``TY  -`` tags, a JSON array or object), then
by the file name's extension; anything else is read a line at a time. A malformed entry is
reported with its line and the reason and skipped; the rest is read. Entries are read one at a
time from the decoded text, so a 10 MB file needs little more memory than its entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import rispy

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.errors import InvalidRecord
from paperfeed.ingest.files import bibtex_reference, parse_bibtex_blocks
from paperfeed.ingest.latex import latex_to_text
from paperfeed.ingest.normalize import clean_text, collapse_space

BIBTEX, RIS, CSL_JSON, LINES = "bibtex", "ris", "csl-json", "lines"
FORMATS = (BIBTEX, RIS, CSL_JSON, LINES)
_EXTENSIONS = {".bib": BIBTEX, ".bibtex": BIBTEX, ".ris": RIS, ".json": CSL_JSON}

_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(?P<id>.+)$", re.IGNORECASE)
_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_MIN_TITLE_WORDS = 2  # a lone word on a line is not taken for a title


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """One paper a library lists: whatever of arXiv id, DOI, title, abstract and authors the
    file gives (at least one of id, DOI and title)."""

    line: int  # where the entry starts in the file (1-based)
    arxiv_id: str | None = None  # canonical, without version
    doi: str | None = None  # as written, without a resolver prefix
    title: str | None = None
    abstract: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None

    @property
    def label(self) -> str:
        """How to name the entry to a person: its arXiv id, DOI or title."""
        if self.arxiv_id:
            return f"arXiv:{self.arxiv_id}"
        return self.doi or self.title or f"line {self.line}"

    @property
    def text(self) -> str:
        """Title and abstract, what a ranker embeds for an entry the store lacks."""
        return "\n".join(t for t in (self.title, self.abstract) if t)


@dataclass(frozen=True, slots=True)
class LibraryError:
    """A malformed entry: where it starts and why it was skipped."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class LibraryFile:
    format: str  # one of FORMATS
    entries: list[LibraryEntry] = field(default_factory=list)
    errors: list[LibraryError] = field(default_factory=list)


def parse_library(data: bytes, filename: str | None = None) -> LibraryFile:
    """Read a library export (format from the content, else the extension of `filename`).

    Undecodable bytes become U+FFFD, NUL a space; a UTF-8 byte order mark is dropped. Never
    raises for bad content: every problem is a `LibraryError` in the result.
    """
    # NUL is no character of any library and PostgreSQL refuses it in text: a space
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff").replace("\x00", " ")
    kind = detect_format(text, filename)
    result = LibraryFile(kind)
    readers = {BIBTEX: _read_bibtex, RIS: _read_ris, CSL_JSON: _read_csl_json, LINES: _read_lines}
    for item in readers[kind](text):
        if isinstance(item, LibraryError):
            result.errors.append(item)
        else:
            result.entries.append(item)
    return result


def detect_format(text: str, filename: str | None = None) -> str:
    """BIBTEX, RIS, CSL_JSON or LINES for the text of a library file."""
    for line in _lines(text[:65_536]):
        stripped = line.strip()
        if not stripped or stripped.startswith("%"):
            continue
        if stripped.startswith("@"):
            return BIBTEX
        if _RIS_TAG.match(line.rstrip("\r\n")):
            return RIS
        if stripped[0] in "[{":
            return CSL_JSON
        return LINES
    suffix = PurePath(filename or "").suffix.lower()  # nothing to tell by: an empty file
    return _EXTENSIONS.get(suffix, LINES)


def _entry(line: int, **values: Any) -> LibraryEntry | LibraryError:
    """An entry when it names a paper (arXiv id, DOI or title), else the error saying so."""
    entry = LibraryEntry(line, **values)
    if not (entry.arxiv_id or entry.doi or entry.title):
        return LibraryError(line, "no arXiv id, DOI or title")
    return entry


# -- BibTeX (ingest.files reads it) ------------------------------------------------------------


def _read_bibtex(text: str) -> Iterator[LibraryEntry | LibraryError]:
    for start, library in parse_bibtex_blocks(_lines(text)):
        for block in library.failed_blocks:
            yield LibraryError(start, _bibtex_failure(type(block).__name__))
        for parsed in library.entries:
            ref = bibtex_reference(parsed)
            yield _entry(
                start,
                arxiv_id=ref.arxiv_id,
                doi=_clean_doi(ref.doi),
                title=ref.title or None,
                abstract=ref.abstract or None,
                authors=tuple(ref.authors),
                year=ref.year,
            )


def _bibtex_failure(kind: str) -> str:
    reasons = {
        "DuplicateBlockKeyBlock": "duplicate entry key",
        "DuplicateFieldKeyBlock": "a field appears twice",
        "ParsingFailedBlock": "malformed BibTeX entry (unbalanced braces or quotes?)",
    }
    return reasons.get(kind, f"malformed BibTeX entry ({kind})")


# -- RIS (rispy maps the tags) ---------------------------------------------------------------


def _read_ris(text: str) -> Iterator[LibraryEntry | LibraryError]:
    for start, lines, closed in _ris_records(_lines(text)):
        if not closed:
            yield LibraryError(start, "record not closed by an 'ER  -' line")
            continue
        try:
            (record,) = rispy.loads("".join(lines))
        except Exception as error:  # rispy raises plain exceptions on odd input
            yield LibraryError(start, f"malformed RIS record: {error}")
            continue
        yield _ris_entry(start, record)


def _ris_records(lines: Iterable[str]) -> Iterator[tuple[int, list[str], bool]]:
    """(first line, lines, closed by ER) of each record from ``TY  -`` to ``ER  -``."""
    record: list[str] = []
    start = 0
    for lineno, line in enumerate(lines, 1):
        tag = _RIS_TAG.match(line.rstrip("\r\n"))
        if tag and tag.group(1) == "TY":
            if record:
                yield start, record, False
            record, start = [], lineno
        if record or (tag and tag.group(1) == "TY"):
            record.append(line if line.endswith("\n") else line + "\n")
            if tag and tag.group(1) == "ER":
                yield start, record, True
                record = []
    if record:
        yield start, record, False


def _ris_entry(line: int, record: dict[str, Any]) -> LibraryEntry | LibraryError:
    urls = [u for u in record.get("urls", []) if isinstance(u, str)]
    title = record.get("title") or record.get("primary_title") or record.get("translated_title")
    authors = [*record.get("authors", []), *record.get("first_authors", [])]
    doi = _clean_doi(record.get("doi"))
    return _entry(
        line,
        arxiv_id=_arxiv_from(doi, *urls, record.get("id"), record.get("note")),
        doi=doi,
        title=_text(title),
        abstract=_text(record.get("abstract") or record.get("notes_abstract")),
        authors=tuple(_person(a) for a in authors if isinstance(a, str) and a.strip()),
        year=_year(record.get("year") or record.get("publication_year") or record.get("date")),
    )


def _person(name: str) -> str:
    """ "Smith, John" -> "John Smith" (RIS and BibTeX write family names first)."""
    family, _, given = name.partition(",")
    return collapse_space(f"{given} {family}" if given.strip() else family)


# -- CSL-JSON (a JSON array of items, or one item) ---------------------------------------------


def _read_csl_json(text: str) -> Iterator[LibraryEntry | LibraryError]:
    """Items are decoded one at a time, so each error names the line its item starts on."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    lines = _LineCounter(text)
    if position < len(text) and text[position] == "{":
        yield from _csl_items(text, position, decoder, lines, single=True)
        return
    if position >= len(text) or text[position] != "[":
        yield LibraryError(lines.at(position), "not CSL-JSON: expected a JSON array of items")
        return
    yield from _csl_items(text, position + 1, decoder, lines, single=False)


def _csl_items(
    text: str, position: int, decoder: json.JSONDecoder, lines: _LineCounter, *, single: bool
) -> Iterator[LibraryEntry | LibraryError]:
    while True:
        position = _skip_space(text, position)
        if not single and position < len(text) and text[position] == "]":
            return
        start = lines.at(position)
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            yield LibraryError(error.lineno, f"invalid JSON: {error.msg}")
            return  # JSON cannot be resynchronised after a syntax error
        except RecursionError:
            yield LibraryError(start, "invalid JSON: nested too deeply")
            return
        if isinstance(item, dict):
            yield _csl_entry(start, item)
        else:
            yield LibraryError(start, "not a CSL-JSON item (expected an object)")
        if single:
            return
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position += 1
        elif position >= len(text) or text[position] != "]":
            yield LibraryError(lines.at(position), "invalid JSON: expected ',' or ']'")
            return


def _csl_entry(line: int, item: dict[str, Any]) -> LibraryEntry | LibraryError:
    doi = _clean_doi(_text(item.get("DOI")))
    number = _text(item.get("number"))  # Zotero puts "arXiv:2401.01234" here for preprints
    return _entry(
        line,
        arxiv_id=_arxiv_from(doi, _text(item.get("URL")), number, _text(item.get("note"))),
        doi=doi,
        title=_text(item.get("title")),
        abstract=_text(item.get("abstract")),
        authors=tuple(filter(None, map(_csl_name, _as_list(item.get("author"))))),
        year=_csl_year(item.get("issued")),
    )


def _csl_name(author: Any) -> str:
    if not isinstance(author, dict):
        return ""
    if author.get("literal"):
        return collapse_space(str(author["literal"]))
    return collapse_space(f"{author.get('given') or ''} {author.get('family') or ''}")


def _csl_year(issued: Any) -> int | None:
    if not isinstance(issued, dict):
        return None
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        return _year(parts[0][0])
    return _year(issued.get("raw") or issued.get("literal"))


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


class _LineCounter:
    """Line numbers of increasing offsets, counting each newline once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def at(self, position: int) -> int:
        self.line += self.text.count("\n", self.offset, position)
        self.offset = max(self.offset, position)
        return self.line


# -- one arXiv id, DOI or title a line ---------------------------------------------------------


def _read_lines(text: str) -> Iterator[LibraryEntry | LibraryError]:
    for lineno, raw in enumerate(_lines(text), 1):
        line = collapse_space(raw)
        if not line or line.startswith("#"):
            continue
        doi = _clean_doi(line) if _DOI.search(line) else None
        arxiv = _arxiv_from(doi, line)
        if arxiv or doi:
            yield LibraryEntry(lineno, arxiv_id=arxiv, doi=None if arxiv else doi)
        elif len(line.split()) >= _MIN_TITLE_WORDS and any(c.isalpha() for c in line):
            yield LibraryEntry(lineno, title=line)
        else:
            yield LibraryError(lineno, f"not an arXiv id, DOI or title: {line[:60]!r}")


# -- shared ----------------------------------------------------------------------------------


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their ends, one at a time (no copy of the whole text)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _arxiv_from(*values: str | None) -> str | None:
    """The arXiv id in the first value holding one (an id, an abs/pdf URL, "arXiv:...", or an
    arXiv DOI ``10.48550/arXiv.<id>``)."""
    for value in values:
        if not value or not isinstance(value, str):
            continue
        value = value.strip()
        doi = _ARXIV_DOI.match(value)
        candidate = doi.group("id") if doi else value
        if candidate.lower().startswith("arxiv:"):
            candidate = candidate[6:].strip()
        try:
            return parse_arxiv_id(candidate)[0]
        except InvalidRecord:
            continue
    return None


def _clean_doi(value: str | None) -> str | None:
    """The bare DOI in `value` ("https://doi.org/10.1/x", "doi:10.1/x" -> "10.1/x")."""
    if not value:
        return None
    match = _DOI.search(value)
    return match.group(1).rstrip(".,;") if match else None


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    return clean_text(latex_to_text(value)) or None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _year(value: Any) -> int | None:
    match = re.search(r"\b(\d{4})\b", str(value)) if value is not None else None
    return int(match.group(1)) if match else None
