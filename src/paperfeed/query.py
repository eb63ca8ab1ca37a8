"""The search query language: any string becomes a Query, never an exception.

Syntax (all optional, freely mixed)::

    transformer pruning          words: papers matching more of them rank higher
    "graph neural network"       a quoted phrase must appear (also +word)
    -survey  -"large language"   leave out papers with this word or phrase (also NOT word)
    author:hinton author:"Yann LeCun"   an author (initials match: author:"G. Hinton")
    cat:cs.CL  cat:cs            a category; a bare archive (cs) matches all of cs.*
    after:2023  before:2024-06-01  year:2022   publication dates (after: inclusive)
    has:code                     papers with a code repository
    transform*                   a word prefix

Whatever cannot be used (unbalanced quotes, stray operators, bad dates, too much text) is dropped
and explained in ``Query.message``. The one exception: a well-formed date outside the days
paperfeed accepts (paperfeed.dates: ``year:9999``, ``before:0001``) raises Invalid, answered 400.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from paperfeed.dates import check_day

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
MAX_LIMIT = 100
MAX_OFFSET = 10_000
SORTS = ("relevance", "date", "upvotes")

# Words too common to help ranking; dropped from free terms (not from phrases) unless the query
# has nothing else.
STOPWORDS = frozenset(
    """a an and are as at be by can do does for from has have how i in into is it its of on or
    our over such that the their them then there these they this those to via was we were
    what when where which while who why will with without would about any all also""".split()  # noqa: SIM905
)
_FIELDS = {
    "author": "author",
    "au": "author",
    "by": "author",
    "cat": "category",
    "category": "category",
    "before": "before",
    "until": "before",
    "after": "after",
    "since": "after",
    "from": "after",
    "year": "year",
    "has": "has",
}
HAS_VALUES = ("code",)  # what has: can ask for
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})
# One token: optional negation, optional field prefix, then a quoted string (maybe unclosed) or a
# run of non-space characters.
_TOKEN = re.compile(
    r'(?P<sign>[-+]?)(?:(?P<field>[A-Za-z]+):)?(?:"(?P<quoted>[^"]*)(?P<close>"?)|(?P<word>[^\s"]+))'
)
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(?:\.[a-z][a-z\-]*)?$", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(slots=True)
class Query:
    """A parsed search: what to match, what to filter on, how to order and page."""

    raw: str
    terms: list[str] = field(default_factory=list)  # optional words (ranked by how many match)
    required: list[str] = field(default_factory=list)  # phrases / +words that must appear
    excluded: list[str] = field(default_factory=list)  # words / phrases that must not appear
    prefixes: list[str] = field(default_factory=list)  # word* prefixes (optional, like terms)
    authors: list[str] = field(default_factory=list)  # each must match an author
    categories: list[str] = field(default_factory=list)  # any of them (cs.CL, or cs = cs.*)
    date_from: dt.date | None = None  # inclusive
    date_to: dt.date | None = None  # inclusive
    has_code: bool = False  # only papers with a code repository (has:code)
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    semantic_text: str = ""  # the natural-language part, for the embedding model
    messages: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        """True when there is something to rank by (words, phrases or prefixes)."""
        return bool(self.terms or self.required or self.prefixes)

    @property
    def has_filters(self) -> bool:
        return bool(
            self.authors
            or self.categories
            or self.date_from
            or self.date_to
            or self.excluded
            or self.has_code
        )

    @property
    def empty_range(self) -> bool:
        return bool(self.date_from and self.date_to and self.date_from > self.date_to)

    @property
    def message(self) -> str | None:
        return " ".join(self.messages) if self.messages else None


def parse_query(
    text: str | None,
    *,
    category: str | None = None,
    author: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    sort: str = "relevance",
    limit: int = 20,
    offset: int = 0,
) -> Query:
    """Parse `text` plus separately given filters (a web form's fields) into a Query; Invalid
    only for a date outside the days paperfeed accepts (paperfeed.dates)."""
    raw = (text or "").replace("\x00", " ")  # no database stores a NUL: a space, as _clean does
    query = Query(raw=raw)
    cleaned = _clean(raw)
    if len(cleaned) > MAX_QUERY_CHARS:
        cut = cleaned.rfind(" ", 0, MAX_QUERY_CHARS)
        cleaned = cleaned[: cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS]
        query.messages.append(f"Only the first {len(cleaned)} characters of the query were used.")
    _parse_text(cleaned, query)
    _add_form_filters(query, category, author, date_from, date_to)
    _set_paging(query, sort, limit, offset)
    return query


def _clean(text: str) -> str:
    """Typographic quotes to plain ones; control and format characters to spaces."""
    text = unicodedata.normalize("NFC", str(text)).translate(_QUOTES)
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs") else ch for ch in text)


def _parse_text(text: str, query: Query) -> None:
    semantic: list[str] = []
    dropped_ops: set[str] = set()
    ignored: list[str] = []
    unbalanced = False
    negate_next = False
    words: list[str] = []  # free words before stop-word removal
    for match in _TOKEN.finditer(text):
        sign, name = match.group("sign"), match.group("field")
        quoted, word = match.group("quoted"), match.group("word")
        value = quoted if quoted is not None else word or ""
        if quoted is not None and not match.group("close"):
            unbalanced = True
        if quoted is None and name is None and value in ("AND", "OR", "NOT", "&&", "||"):
            dropped_ops.add(value)
            negate_next = value == "NOT"
            continue
        negated = sign == "-" or negate_next
        negate_next = False
        if name is not None and name.lower() in _FIELDS:
            _apply_field(query, _FIELDS[name.lower()], value.strip(), name)
            continue
        if name is not None:  # an unknown "x:" prefix is just text
            value = f"{name}:{value}"
        if not _has_word(value):
            if value.strip():
                ignored.append(value.strip())
            continue
        value = " ".join(value.split())
        if negated:
            query.excluded.append(value)
        elif quoted is not None or sign == "+":
            query.required.append(value)
            semantic.append(value)
        elif value.endswith("*") and _has_word(value.rstrip("*")):
            query.prefixes.append(value.rstrip("*"))
            semantic.append(value.rstrip("*"))
        else:
            words.append(value)
            semantic.append(value)
    if unbalanced:
        query.messages.append("A quote was not closed; it was closed at the end of the query.")
    if dropped_ops - {"NOT"}:
        query.messages.append(
            "AND/OR are not needed: papers matching more words rank higher; "
            'use "quotes" or +word for what must appear.'
        )
    if ignored:
        shown = " ".join(dict.fromkeys(ignored))[:40]
        query.messages.append(f"Ignored symbols without letters or digits: {shown}")
    _set_terms(query, words)
    query.semantic_text = " ".join(semantic)


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _set_terms(query: Query, words: list[str]) -> None:
    kept = [w for w in words if w.lower() not in STOPWORDS] or words
    seen: dict[str, str] = {}
    for word in kept:
        seen.setdefault(word.lower(), word)
    terms = list(seen.values())
    budget = MAX_TERMS - len(query.required) - len(query.prefixes)
    if len(terms) > max(budget, 0):
        query.messages.append(f"Only the first {MAX_TERMS} words were searched.")
        terms = terms[: max(budget, 0)]
    query.terms = terms
    for name in ("required", "prefixes", "excluded"):
        items = getattr(query, name)
        if len(items) > MAX_TERMS:
            setattr(query, name, items[:MAX_TERMS])


def _apply_field(query: Query, kind: str, value: str, name: str) -> None:
    if not value:
        query.messages.append(f"{name}: needs a value; ignored.")
        return
    if kind == "author":
        if _has_word(value):
            query.authors.append(" ".join(value.split()))
        else:
            query.messages.append(f"{name}:{value} is not a name; ignored.")
    elif kind == "category":
        _add_category(query, value, f"{name}:{value}")
    elif kind == "has":
        if value.lower() in HAS_VALUES:
            query.has_code = True
        else:
            query.messages.append(f"{name}:{value} is unknown (use has:code); ignored.")
    elif kind == "year":
        if value.isdigit() and len(value) == 4 and value != "0000":
            start, end = dt.date(int(value), 1, 1), dt.date(int(value), 12, 31)
            shown = f"{name}:{value}"
            _narrow(query, check_day(start, shown), check_day(end, shown))
        else:
            query.messages.append(f"{name}:{value} is not a year (use e.g. year:2023); ignored.")
    else:
        day = _parse_date(value)
        if day is None:
            query.messages.append(
                f"{name}:{value} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD); ignored."
            )
        elif kind == "after":
            _narrow(query, check_day(day, f"{name}:{value}"), None)
        else:
            _narrow(query, None, check_day(day, f"{name}:{value}") - dt.timedelta(days=1))


def _add_category(query: Query, value: str, shown: str) -> None:
    added = False
    for part in re.split(r"[,\s]+", value):
        if _CATEGORY.match(part):
            query.categories.append(part)
            added = True
        elif part:
            query.messages.append(f"{shown} is not an arXiv category (e.g. cs.CL or cs); ignored.")
            return
    if not added:
        query.messages.append(f"{shown} is not an arXiv category; ignored.")


def _parse_date(value: str) -> dt.date | None:
    """The first day of YYYY, YYYY-MM or the day YYYY-MM-DD; None when it is not a date."""
    match = _DATE.match(value)
    if not match:
        return None
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _narrow(query: Query, start: dt.date | None, end: dt.date | None) -> None:
    if start and (query.date_from is None or start > query.date_from):
        query.date_from = start
    if end and (query.date_to is None or end < query.date_to):
        query.date_to = end


def _add_form_filters(
    query: Query,
    category: str | None,
    author: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> None:
    if category and category.strip():
        _add_category(query, category.strip(), f"category {category.strip()!r}")
    if author and author.strip():
        _apply_field(query, "author", _clean(author).replace('"', " ").strip(), "author")
    start, end = _as_date(date_from), _as_date(date_to)
    _narrow(
        query,
        start and check_day(start, "the first day"),
        end and check_day(end, "the last day"),
    )
    if query.empty_range:
        query.messages.append(
            f"The date range {query.date_from} to {query.date_to} is empty: nothing can match."
        )


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _set_paging(query: Query, sort: str, limit: int, offset: int) -> None:
    sort = (sort or "relevance").lower()
    if sort not in SORTS:
        query.messages.append(f"Unknown sort {sort!r}; sorted by relevance.")
        sort = "relevance"
    query.sort = sort
    query.limit = max(1, min(int(limit), MAX_LIMIT))
    query.offset = max(0, min(int(offset), MAX_OFFSET))


def snippet(text: str, query: Query, width: int = 220) -> str:
    """A piece of `text` around the first query word it contains (or its start)."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    lowered = text.lower()
    positions = [
        lowered.find(w.lower())
        for w in (*query.required, *query.terms, *query.prefixes)
        if w.lower() in lowered
    ]
    start = max(0, min(positions) - width // 4) if positions else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = start + width
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
