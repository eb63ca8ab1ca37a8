"""Text shown on pages: abstract snippets and search-term highlighting.

Highlighting escapes the text FIRST and only then wraps query words in ``<mark>``, so nothing
from a title or an abstract (``<script>``, ``$a<b$``) can become markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape

from paperfeed.query import Query, snippet

# An HTML entity in escaped text (skipped, so a query word never splits "&lt;") or a word.
_ENTITY_OR_WORD = re.compile(r"&#?\w+;|\w+", re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)
MIN_TERM = 2


def query_words(query: Query) -> list[str]:
    """The words of a parsed query worth highlighting (phrases split into words), lower case."""
    words: list[str] = []
    for text in (*query.required, *query.terms, *query.prefixes):
        words.extend(w.lower() for w in _WORD.findall(text) if len(w) >= MIN_TERM)
    return list(dict.fromkeys(words))


def highlight_words(query: Query | None) -> list[str]:
    """The words to highlight for a search (none without one)."""
    return query_words(query) if query is not None else []


def highlight(text: str | None, words: Iterable[str]) -> Markup:
    """`text` escaped, with every word starting with a query word wrapped in ``<mark>``."""
    escaped = str(escape(text or ""))
    prefixes = tuple(w.lower() for w in words if w)
    if not prefixes:
        return Markup(escaped)

    def mark(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("&") or not token.lower().startswith(prefixes):
            return token
        return f"<mark>{token}</mark>"

    return Markup(_ENTITY_OR_WORD.sub(mark, escaped))


def shorten(text: str | None, width: int = 300) -> str:
    """`text` cut at a word boundary near `width` characters, with an ellipsis when cut."""
    text = " ".join((text or "").split())
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width)
    return text[: cut if cut > width // 2 else width].rstrip(" ,;:.") + "…"


def search_snippet(text: str | None, query: Query | None, width: int = 300) -> str:
    """A piece of `text` around the first word of the parsed `query` (plain text, still to be
    highlighted); the start of `text` without a query text."""
    if query is None or not query.raw:
        return shorten(text, width)
    return snippet(text or "", query, width)
