"""Search filters on SQLite as FTS5 MATCH expressions: author names, required phrases and
exclusions of listings without words, and whether a name's words belong to one author (ranking
and the filters of ranked or nearest candidates are tantivy's, see tantivy_keyword.py).

Every user word goes into the MATCH as a quoted FTS string, so FTS syntax typed by a user is
plain text here; the tokenizer (porter, unicode61, diacritics removed) splits hyphenated words
into phrases ("self-supervised" matches "self supervised"), folds case and accents and stems.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from paperfeed.query import Query
from paperfeed.store.filters import metadata_conditions
from paperfeed.store.schema import papers

_MAX_NAME_TOKENS = 6

_fts = sa.table("papers_fts", sa.column("rowid"))
_FTS_TABLE: sa.ColumnClause[Any] = sa.literal_column("papers_fts")


def fts_string(text: str) -> str:
    """`text` as one FTS5 string (a phrase of its tokens), safe whatever it contains."""
    return '"' + text.replace('"', '""') + '"'


def name_tokens(name: str) -> list[str]:
    return [t for t in re.findall(r"\w+", name) if t.strip("_")][:_MAX_NAME_TOKENS]


def author_expression(name: str) -> str | None:
    """Tokens of `name` near each other in the authors column; initials match as prefixes."""
    tokens = name_tokens(name)
    if not tokens:
        return None
    quoted = [fts_string(t) + ("*" if len(t) == 1 else "") for t in tokens]
    if len(quoted) == 1:
        return f"authors : {quoted[0]}"
    return f"authors : NEAR({' '.join(quoted)}, {len(quoted)})"


def _any_of(texts: Sequence[str]) -> str | None:
    return "(" + " OR ".join(fts_string(t) for t in texts) + ")" if texts else None


def _fts_keys(expression: str) -> sa.Select[Any]:
    return sa.select(_fts.c.rowid).where(_FTS_TABLE.op("MATCH")(expression))


def _fts_has(expression: str) -> sa.ColumnElement[bool]:
    """This paper matches `expression`: FTS5 seeks the row, not every match."""
    return sa.exists(
        sa.select(sa.literal(1))
        .select_from(_fts)
        .where(_FTS_TABLE.op("MATCH")(expression), _fts.c.rowid == papers.c.key)
    )


def filter_conditions(query: Query) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on `papers` for the query's filters, required phrases and exclusions (for
    listings without words); hidden papers never pass. Each FTS5 expression's matches are listed
    once."""
    conditions = metadata_conditions(query)
    conditions += author_conditions(query.authors)
    if query.required:
        conditions.append(_matching(" AND ".join(fts_string(p) for p in query.required)))
    excluded = _any_of(query.excluded)
    if excluded:
        conditions.append(sa.not_(_matching(excluded)))
    return conditions


def author_conditions(
    names: Sequence[str], *, per_row: bool = False
) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on `papers`: each of the author `names` matches; none when there is no
    name. `per_row`: the conditions will test a few given papers, so each is looked up in FTS5;
    else, and for prefixes (which FTS5 would expand again for every row), the matches are listed
    once."""
    authors = [e for e in map(author_expression, names) if e]
    return [_matching(" AND ".join(authors), per_row)] if authors else []


def _matching(expression: str, per_row: bool = False) -> sa.ColumnElement[bool]:
    if per_row and "*" not in expression:
        return _fts_has(expression)
    return papers.c.key.in_(_fts_keys(expression))
