"""Keyword search and search filters on PostgreSQL: tsquery expressions built from a Query.

The ``papers.search_vector`` column (see postgres.py) holds title (weight A), authors (B) and
abstract (C), tokenised after ``paperfeed_fold``: accents removed and ASCII punctuation turned into
spaces, so "self-supervised" is the phrase "self supervised" as in SQLite's unicode61 tokenizer.
English stems (Snowball) without stop words. User text is never parsed as tsquery syntax: each
word or phrase becomes ``phraseto_tsquery`` of its folded text; only prefixes and author names
are spelled as tsquery text, from word characters alone.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY
from sqlalchemy.engine import Connection

from paperfeed.query import Query
from paperfeed.store.filters import metadata_conditions
from paperfeed.store.schema import papers

CONFIG = "paperfeed"
# ts_rank weights of the labels {D, C, B, A}: abstract 1, authors 2, title 4 (as SQLite's bm25).
RANK_WEIGHTS = "{0, 0.25, 0.5, 1.0}"
RANK_NORMALIZATION = 1  # divide by 1 + log(document length)
FREQUENCY_TTL = 60.0  # seconds a document frequency is reused
ESTIMATE_FROM = 50_000  # papers from which document frequencies are estimated, not counted
SCORED_ONE_BY_ONE = 8  # the rarest parts ranked separately; the rest share one ts_rank call
# ts_rank reads each candidate's tsvector, so the cost grows with the rows matched. When a query's
# optional words together match more than this many papers, only the rarest ones (the most
# informative) select candidates; the common ones still add to their scores.
MATCHED_ROWS_CAP = 10_000
_MAX_NAME_TOKENS = 6
_ASCII_PUNCTUATION = {c: " " for c in range(1, 128) if not chr(c).isalnum()}

search_vector: sa.ColumnClause[Any] = sa.literal_column("papers.search_vector")
# Shared type instances: SQLAlchemy computes a type's cache key once per instance, and for
# Boolean that takes milliseconds.
_BOOLEAN, _FLOAT, _TSQUERY = sa.Boolean(), sa.Float(), TSQUERY()


def fold(text: str) -> str:
    """What ``paperfeed_fold`` does in SQL: accents dropped, ASCII punctuation to spaces."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not 0x300 <= ord(ch) <= 0x36F)
    return " ".join(stripped.translate(_ASCII_PUNCTUATION).split())


def _config() -> sa.ColumnElement[Any]:
    return sa.cast(sa.literal(CONFIG), REGCONFIG)


def _phrase(text: str) -> sa.ColumnElement[Any]:
    return sa.func.phraseto_tsquery(_config(), sa.literal(fold(text)), type_=_TSQUERY)


def _lexeme(token: str, suffix: str = "") -> str:
    return "'" + token.replace("'", "''") + "'" + suffix


def _prefix(text: str) -> sa.ColumnElement[Any] | None:
    tokens = fold(text).split()
    if not tokens:
        return None
    spelled = " <-> ".join(_lexeme(t) for t in tokens[:-1]) + " <-> " * (len(tokens) > 1)
    return sa.func.to_tsquery(
        _config(), sa.literal(spelled + _lexeme(tokens[-1], ":*")), type_=_TSQUERY
    )


def _combine(parts: Sequence[sa.ColumnElement[Any]], how: str) -> sa.ColumnElement[Any] | None:
    """`parts` joined with tsquery_and or tsquery_or (`how`); None when there are none."""
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = getattr(sa.func, how)(combined, part, type_=_TSQUERY)
    return combined


def _any_of(texts: Sequence[str]) -> sa.ColumnElement[Any] | None:
    return _combine([_phrase(t) for t in texts], "tsquery_or")


def _matches(tsquery: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    return search_vector.op("@@", return_type=_BOOLEAN)(tsquery)


def match_query(
    query: Query, optional: Sequence[sa.ColumnElement[Any]] | None = None
) -> sa.ColumnElement[Any] | None:
    """The ranking tsquery: any of the words (or of `optional`, a selection of their tsqueries),
    all required phrases, none of the excluded."""
    if optional is None:
        optional = [_phrase(t) for t in query.terms]
        optional += [p for p in map(_prefix, query.prefixes) if p is not None]
    parts = [q for q in [_combine(optional, "tsquery_or")] if q is not None]
    parts += [_phrase(p) for p in query.required]
    expression = _combine(parts, "tsquery_and")
    if expression is None:
        return None
    excluded = _any_of(query.excluded)
    if excluded is not None:
        expression = sa.func.tsquery_and(
            expression, sa.func.tsquery_not(excluded, type_=_TSQUERY), type_=_TSQUERY
        )
    return expression


def author_tokens(name: str) -> list[str]:
    return fold(name).split()[:_MAX_NAME_TOKENS]


def _author_condition(name: str) -> sa.ColumnElement[bool] | None:
    """One author's tokens (initials as prefixes) in a single author line of the paper.

    The GIN index narrows by the authors' lexemes (weight B); the per-author check then makes
    "G. Hinton" match "Geoffrey E. Hinton" but not a G. and a Hinton in two different names.
    """
    tokens = author_tokens(name)
    if not tokens:
        return None
    spelled = [_lexeme(t, ":*" if len(t) == 1 else "") for t in tokens]
    weighted = " & ".join(s + ("B" if s.endswith("*") else ":B") for s in spelled)
    indexed = _matches(sa.func.to_tsquery(_config(), sa.literal(weighted), type_=_TSQUERY))
    names = sa.func.unnest(sa.func.string_to_array(papers.c.authors, "\n")).table_valued("name")
    one_author = sa.func.to_tsvector(_config(), sa.func.paperfeed_fold(names.c.name)).op(
        "@@", return_type=_BOOLEAN
    )(sa.func.to_tsquery(_config(), sa.literal(" & ".join(spelled)), type_=_TSQUERY))
    return sa.and_(
        indexed, sa.exists(sa.select(sa.literal(1)).select_from(names).where(one_author))
    )


def author_conditions(names: Sequence[str]) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on `papers`: each of the author `names` matches one author line."""
    return [c for c in map(_author_condition, names) if c is not None]


def filter_conditions(
    query: Query, *, text_constraints: bool = False
) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on `papers` for the query's filters; hidden papers never pass.

    With `text_constraints`, required phrases and exclusions are enforced too (for candidates that
    did not come from the keyword match, e.g. nearest neighbours or plain listings).
    """
    conditions = metadata_conditions(query)
    conditions += author_conditions(query.authors)
    if text_constraints:
        required = _combine([_phrase(p) for p in query.required], "tsquery_and")
        if required is not None:
            conditions.append(_matches(required))
        excluded = _any_of(query.excluded)
        if excluded is not None:
            conditions.append(sa.not_(_matches(excluded)))
    return conditions


class DocumentFrequencies:
    """How many papers match each query part, for IDF weights and choosing candidates.

    Counted exactly (one GIN count per part) while the store is small; from ESTIMATE_FROM papers
    on, parts made of common lexemes are estimated from the planner's statistics of
    ``search_vector`` (ANALYZE keeps the ~1,000 most common lexemes with their frequencies; a
    phrase counts as its rarest word): counting a common word among a million papers takes longer
    than ranking, while rarer parts are cheap to count exactly. Cached for `ttl` seconds.
    """

    def __init__(self, ttl: float = FREQUENCY_TTL) -> None:
        self.ttl = ttl
        self._counts: dict[tuple[str, str], tuple[float, int]] = {}
        self._statistics: tuple[float, float, dict[str, float]] | None = None
        self._lock = threading.Lock()

    def __call__(
        self, conn: Connection, key: tuple[str, str], part: sa.ColumnElement[Any] | None
    ) -> int:
        """Papers matching the tsquery `part` (None: all papers); `key` names it in the cache."""
        now = time.monotonic()
        with self._lock:
            cached = self._counts.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        count = None
        if part is not None and key[0] != "prefix":
            count = self._estimate(conn, part)
        if count is None:
            stmt = sa.select(sa.func.count()).select_from(papers)
            count = conn.execute(
                stmt.where(_matches(part)) if part is not None else stmt
            ).scalar_one()
        with self._lock:
            if len(self._counts) > 50_000:
                self._counts.clear()
            self._counts[key] = (now, count)
        return count

    def _estimate(self, conn: Connection, part: sa.ColumnElement[Any]) -> int | None:
        total, frequency = self._lexeme_frequencies(conn)
        if total < ESTIMATE_FROM or not frequency:
            return None
        tree = conn.execute(sa.select(sa.func.querytree(part))).scalar_one()
        lexemes = [x.replace("''", "'") for x in re.findall(r"'((?:[^']|'')*)'", tree or "")]
        if not lexemes or any(lexeme not in frequency for lexeme in lexemes):
            return None  # a rare word somewhere: counting is cheap
        return round(min(frequency[lexeme] for lexeme in lexemes) * total)

    def _lexeme_frequencies(self, conn: Connection) -> tuple[float, dict[str, float]]:
        """(papers, the most common lexemes -> share of papers containing them), per TTL."""
        now = time.monotonic()
        with self._lock:
            if self._statistics is not None and now - self._statistics[0] < self.ttl:
                return self._statistics[1], self._statistics[2]
        total = conn.exec_driver_sql(
            "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'papers'::regclass"
        ).scalar_one()
        row = conn.exec_driver_sql(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'papers' AND attname = 'search_vector' "
            "AND schemaname = current_schema()"
        ).first()
        frequency: dict[str, float] = {}
        if row is not None and row[0] and row[1]:  # the shares end with min, max, null share
            frequency = dict(zip(row[0], row[1][: len(row[0])], strict=True))
        with self._lock:
            self._statistics = (now, float(total), frequency)
        return float(total), frequency


def _ranked_parts(query: Query) -> list[tuple[tuple[str, str], sa.ColumnElement[Any]]]:
    """(cache key, tsquery) of each part that adds to the score: words, prefixes, phrases."""
    parts = [(("word", fold(t)), _phrase(t)) for t in query.terms]
    for prefix in query.prefixes:
        tsquery = _prefix(prefix)
        if tsquery is not None:
            parts.append((("prefix", fold(prefix)), tsquery))
    parts += [(("phrase", fold(p)), _phrase(p)) for p in query.required]
    return parts


def _selective(
    optional: list[tuple[int, sa.ColumnElement[Any]]],
) -> list[sa.ColumnElement[Any]] | None:
    """The rarest of the optional (papers matched, tsquery) parts whose matches stay under
    MATCHED_ROWS_CAP (at least one); None when all of them fit."""
    if sum(found for found, _ in optional) <= MATCHED_ROWS_CAP:
        return None
    chosen: list[sa.ColumnElement[Any]] = []
    matched = 0
    for found, part in sorted(optional, key=lambda pair: pair[0]):
        if chosen and matched + found > MATCHED_ROWS_CAP:
            break
        chosen.append(part)
        matched += found
    return chosen


def _candidates(
    conn: Connection, query: Query, frequencies: DocumentFrequencies
) -> tuple[sa.ColumnElement[Any] | None, list[tuple[float, sa.ColumnElement[Any]]]]:
    """The tsquery that selects the query's candidates (None: nothing can match) and the
    (IDF, tsquery) of each part that adds to their scores."""
    if match_query(query) is None:
        return None, []
    total = max(frequencies(conn, ("all", ""), None), 1)
    weighted, optional = [], []
    for key, part in _ranked_parts(query):
        found = frequencies(conn, key, part)
        weighted.append((math.log(1 + (total - found + 0.5) / (found + 0.5)), part))
        if key[0] != "phrase":
            optional.append((found, part))
    return match_query(query, _selective(optional)), weighted


def keyword_count(
    conn: Connection,
    query: Query,
    cap: int,
    frequencies: DocumentFrequencies,
    among: Sequence[int] | None = None,
) -> int:
    """How many visible papers `keyword_search` could return for the query (only those keyed
    in `among` if given), counted up to `cap`: counting every match of a common word would take
    longer than ranking."""
    tsquery, _ = _candidates(conn, query, frequencies)
    if tsquery is None or (among is not None and not among):
        return 0
    conditions = filter_conditions(query)
    if among is not None:
        conditions.append(papers.c.key.in_(among))
    matching = sa.select(papers.c.key).where(_matches(tsquery), *conditions)
    counted = sa.select(sa.func.count()).select_from(matching.limit(cap).subquery())
    return int(conn.execute(counted).scalar_one())


def keyword_search(
    conn: Connection, query: Query, limit: int, frequencies: DocumentFrequencies
) -> list[tuple[int, float]]:
    """BM25-like (key, score) of visible papers matching the query, best first: the sum over
    its words and phrases of IDF x ts_rank (which saturates with repeats, weighs title/authors/
    abstract and normalises by length)."""
    tsquery, weighted = _candidates(conn, query, frequencies)
    if tsquery is None:
        return []
    weighted.sort(key=lambda pair: -pair[0])
    common = weighted[SCORED_ONE_BY_ONE:]
    if common:  # long queries: one call for the common words, at their mean IDF
        mean_idf = sum(idf for idf, _ in common) / len(common)
        joined = _combine([part for _, part in common], "tsquery_or")
        assert joined is not None  # common is not empty
        weighted = [*weighted[:SCORED_ONE_BY_ONE], (mean_idf, joined)]
    weights = sa.cast(sa.literal(RANK_WEIGHTS), sa.ARRAY(sa.REAL))
    terms = [
        sa.func.ts_rank(weights, search_vector, part, RANK_NORMALIZATION, type_=_FLOAT) * idf
        for idf, part in weighted
    ]
    score = sum(terms[1:], terms[0])
    stmt = (
        sa.select(papers.c.key, score.label("score"))
        .where(_matches(tsquery), *filter_conditions(query))
        .order_by(sa.desc("score"), papers.c.key)
        .limit(limit)
    )
    return [(row.key, float(row.score)) for row in conn.execute(stmt)]
