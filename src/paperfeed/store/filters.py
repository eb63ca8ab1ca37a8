"""Search filters every backend applies the same way: visibility, date range, categories and
has:code."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from paperfeed.query import Query
from paperfeed.store.schema import papers


def metadata_conditions(query: Query) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on `papers` for the query's date, category and has:code filters; hidden
    papers never pass. Backends add their full-text conditions (authors, phrases, exclusions)."""
    conditions: list[sa.ColumnElement[bool]] = [papers.c.hidden == sa.false()]
    if query.empty_range:
        conditions.append(sa.false())
    if query.date_from:
        conditions.append(papers.c.published >= _midnight(query.date_from))
    if query.date_to:
        conditions.append(papers.c.published < _midnight(query.date_to + dt.timedelta(days=1)))
    if query.categories:
        padded = " " + papers.c.categories + " "
        options = []
        for category in query.categories:
            if "." in category:
                options.append(padded.ilike(f"% {category} %"))
            else:  # an archive: cs matches cs.CL, cs.LG...; hep-th matches itself
                options += [padded.ilike(f"% {category}.%"), padded.ilike(f"% {category} %")]
        conditions.append(sa.or_(*options))
    if query.has_code:
        conditions.append(papers.c.code_url.is_not(None))
    return conditions


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)  # naive UTC, as stored
