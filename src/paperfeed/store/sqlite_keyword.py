"""Keyword search and search filters on SQLite: FTS5 MATCH expressions built from a Query.

Every user word goes into the MATCH as a quoted FTS string, so FTS syntax typed by a user is
plain text here; the tokenizer (porter, unicode61, diacritics removed) splits hyphenated words
into phrases ("self-supervised" matches "self supervised"), folds case and accents and stems.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from paperfeed.search.query import Query
from paperfeed.store.filters import metadata_conditions
from paperfeed.store.schema import papers

# bm25 weights of the FTS columns (title, abstract, authors). On CACM (nDCG@10, 52 queries) the
# choice matters little: 1/1/1 0.415, 4/1/2 0.413, 6/1/3 0.418, 3/1/1 0.398.
BM25_WEIGHTS = (6.0, 1.0, 3.0)
_MAX_NAME_TOKENS = 6

_fts = sa.table("papers_fts", sa.column("rowid"))
_FTS_TABLE = sa.literal_column("papers_fts")


def fts_string(text: str) -> str:
    """`text` as one FTS5 string (a phrase of its tokens), safe whatever it contains."""
    return '"' + text.replace('"', '""') + '"'


def match_expression(query: Query) -> str | None:
    """The ranking MATCH: any of the words, all required phrases, none of the excluded."""
    optional = [fts_string(t) for t in query.terms]
    optional += [fts_string(p) + "*" for p in query.prefixes]
    parts = ["(" + " OR ".join(optional) + ")"] if optional else []
    parts += [fts_string(phrase) for phrase in query.required]
    if not parts:
        return None
    expression = " AND ".join(parts)
    excluded = _any_of(query.excluded)
    return f"({expression}) NOT {excluded}" if excluded else expression


def author_expression(name: str) -> str | None:
    """Tokens of `name` near each other in the authors column; initials match as prefixes."""
    tokens = [t for t in re.findall(r"\w+", name) if t.strip("_")][:_MAX_NAME_TOKENS]
    if not tokens:
        return None
    quoted = [fts_string(t) + ("*" if len(t) == 1 else "") for t in tokens]
    if len(quoted) == 1:
        return f"authors : {quoted[0]}"
    return f"authors : NEAR({' '.join(quoted)}, {len(quoted)})"


def _any_of(texts: Sequence[str]) -> str | None:
    return "(" + " OR ".join(fts_string(t) for t in texts) + ")" if texts else None


def _fts_keys(expression: str) -> sa.Select:
    return sa.select(_fts.c.rowid).where(_FTS_TABLE.op("MATCH")(expression))


def filter_conditions(query: Query, *, text_constraints: bool = False) -> list[sa.ColumnElement]:
    """WHERE conditions on `papers` for the query's filters; hidden papers never pass.

    With `text_constraints`, required phrases and exclusions are enforced too (for candidates that
    did not come from the keyword MATCH, e.g. nearest neighbours or plain listings).
    """
    conditions = metadata_conditions(query)
    authors = [e for e in map(author_expression, query.authors) if e]
    if authors:
        conditions.append(papers.c.key.in_(_fts_keys(" AND ".join(authors))))
    if text_constraints:
        if query.required:
            required = " AND ".join(fts_string(p) for p in query.required)
            conditions.append(papers.c.key.in_(_fts_keys(required)))
        excluded = _any_of(query.excluded)
        if excluded:
            conditions.append(papers.c.key.not_in(_fts_keys(excluded)))
    return conditions


# A word in a large share of the papers adds little to BM25 next to rarer words (low IDF) but
# makes FTS5 score every paper that has it: on a million papers that is what slows OR queries.
# Such words are left out of the ranking MATCH when the query has rarer ones; if all its words are
# common, papers must have all of them. Counting stops at the cap, so the check stays cheap.
COMMON_WORD_SHARE = 0.05
COMMON_WORD_MIN_PAPERS = 5_000  # below 100k papers, only words in over 5,000 of them


def keyword_search(conn: Connection, query: Query, limit: int) -> list[tuple[int, float]]:
    """BM25-ranked (key, score) of visible papers matching the query, best first."""
    size = conn.execute(sa.select(sa.func.max(papers.c.key))).scalar() or 0
    cap = max(COMMON_WORD_MIN_PAPERS, int(size * COMMON_WORD_SHARE))
    common = (
        set() if size <= cap else {t for t in query.terms if _in_more_papers_than(conn, t, cap)}
    )
    if not common:
        return _ranked(conn, query, match_expression(query), limit)
    rare = [t for t in query.terms if t not in common]
    if rare:
        return _ranked(conn, query, match_expression(replace(query, terms=rare)), limit)
    every_word = replace(query, terms=[], required=[*query.required, *query.terms])
    return _ranked(conn, query, match_expression(every_word), limit) or _ranked(
        conn, query, match_expression(query), limit
    )


def _in_more_papers_than(conn: Connection, word: str, cap: int) -> bool:
    counted = sa.select(sa.func.count()).select_from(
        _fts_keys(fts_string(word)).limit(cap + 1).subquery()
    )
    return conn.execute(counted).scalar_one() > cap


def _ranked(
    conn: Connection, query: Query, expression: str | None, limit: int
) -> list[tuple[int, float]]:
    if expression is None:
        return []
    score = sa.func.bm25(_FTS_TABLE, *(sa.literal_column(repr(w)) for w in BM25_WEIGHTS))
    stmt = (
        sa.select(papers.c.key, score.label("score"))
        .select_from(_fts.join(papers, papers.c.key == _fts.c.rowid))
        .where(_FTS_TABLE.op("MATCH")(expression), *filter_conditions(query))
        .order_by(score, papers.c.key)
        .limit(limit)
    )
    return [(row.key, -float(row.score)) for row in conn.execute(stmt)]
