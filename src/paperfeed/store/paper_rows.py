"""Papers as the plain tuples a database driver takes, so that another process can prepare
them (a bulk import parses and encodes in a second process, the writer only inserts).

A `PaperRowCodec` encodes the column values `rows.paper_values` gives, converted exactly as
SQLAlchemy's column types convert them for the dialect (dates to text on SQLite, JSON to
text), then the two fields `paper_values` fills in (``n_authors``, ``primary_category``) as
the paper gave them, so that `decode` gives the paper back for a merge with a stored one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from paperfeed.models import Paper
from paperfeed.store import rows
from paperfeed.store.schema import papers

EncodedPaper = tuple[Any, ...]
"""A paper's column values in `PaperRowCodec.columns` order, then its given n_authors and
primary_category."""

_GIVEN = 2  # trailing fields of an EncodedPaper that are not columns


class PaperRowCodec:
    """Encodes papers to driver tuples for `insert_sql` and decodes them back (module docstring)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        names = list(rows.paper_values(Paper(id="", title="", abstract=""), rows.utcnow()))
        insert = papers.insert().values({name: sa.bindparam(name) for name in names})
        compiled = insert.compile(dialect=dialect)
        self.insert_sql = str(compiled)
        self.columns: tuple[str, ...] = tuple(compiled.positiontup or names)
        types = [papers.c[name].type.dialect_impl(dialect) for name in self.columns]
        self._encoders = _conversions([t.bind_processor(dialect) for t in types])
        self._decoders = _conversions([t.result_processor(dialect, None) for t in types])
        self.id_index = self.columns.index("id")
        self._modified_at = self.columns.index("modified_at")
        self._now: tuple[dt.datetime | None, Any] = (None, None)

    @classmethod
    def for_dialect(cls, name: str) -> PaperRowCodec:
        """The codec for a dialect named as SQLAlchemy names it (``sqlite``)."""
        return cls(sa.dialects.registry.load(name)())

    def encode(self, paper: Paper, now: dt.datetime) -> EncodedPaper:
        values = rows.paper_values(paper, now)
        return (*self.encode_values(values), paper.n_authors, paper.primary_category)

    def encode_values(self, values: dict[str, Any]) -> EncodedPaper:
        """Column values (`rows.paper_values`) as the driver's tuple, without the given fields."""
        encoded = list(map(values.__getitem__, self.columns))
        now = encoded[self._modified_at]
        for index, process in self._encoders:
            if index == self._modified_at:  # the same for a whole batch: converted once
                if self._now[0] is not now:
                    self._now = (now, process(now))
                encoded[index] = self._now[1]
            else:
                encoded[index] = process(encoded[index])
        return tuple(encoded)

    def values(self, encoded: EncodedPaper) -> EncodedPaper:
        """The part of an encoded paper that `insert_sql` takes."""
        return encoded[:-_GIVEN]

    def paper_id(self, encoded: EncodedPaper) -> str:
        paper_id: str = encoded[self.id_index]
        return paper_id

    def decode(self, encoded: EncodedPaper) -> Paper:
        """The paper `encode` was given (field_sources, upvotes and hidden as for a new paper)."""
        *columns, n_authors, primary_category = encoded
        for index, process in self._decoders:
            columns[index] = process(columns[index])
        row = dict(zip(self.columns, columns, strict=True))
        paper = rows.paper_from_row({**row, "upvotes": 0, "hidden": False})
        paper.n_authors = n_authors
        paper.primary_category = primary_category
        return paper


def _conversions(
    processors: list[Callable[[Any], Any] | None],
) -> list[tuple[int, Callable[[Any], Any]]]:
    """(column index, conversion) of the columns whose type converts values."""
    return [(index, process) for index, process in enumerate(processors) if process is not None]
