"""Builders of the records tests store: papers and feed submissions, each with defaults that
keyword arguments override (a test spells out only the values it is about)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from paperfeed.models import Paper, Submission

DAY = dt.date(2024, 5, 27)  # the feed day most tests submit to
NOON = dt.datetime.combine(DAY, dt.time(12), dt.UTC)


def make_paper(paper_id: str = "2401.00001", **fields: Any) -> Paper:
    """A complete arXiv record (version, authors, categories, publication date), as an ingest
    source would give it; `fields` replace any of its values."""
    values: dict[str, Any] = {
        "title": "Binary networks with periodic activations",
        "abstract": "We replace the sign function with a sine.",
        "version": 1,
        "authors": ["Ada Lovelace", "Alan Turing"],
        "categories": ["cs.LG", "cs.CV"],
        "published": dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC),
        "source": "test",
    }
    values.update(fields)
    return Paper(id=paper_id, **values)


def bare_paper(paper_id: str, title: str, abstract: str = "An abstract.", **fields: Any) -> Paper:
    """A paper with only a title, an abstract and one author ("A. Author"): no version,
    categories or dates unless `fields` give them."""
    fields.setdefault("authors", ["A. Author"])
    return Paper(id=paper_id, title=title, abstract=abstract, **fields)


def make_submission(
    paper_id: str = "2401.00001",
    day: dt.date = DAY,
    *,
    hour: int = 12,
    submitted_at: dt.datetime | None = None,
    **fields: Any,
) -> Submission:
    """`paper_id` put on the feed of `day`, submitted at `hour` o'clock (UTC) that day unless
    `submitted_at` says when; `fields` (submitter, imported_upvotes, source, ...) as in
    `Submission`."""
    if submitted_at is None:
        submitted_at = dt.datetime.combine(day, dt.time(hour), dt.UTC)
    return Submission(paper_id, day, submitted_at, **fields)
