"""A small feed of known papers and submissions for the API tests, and the web app serving it."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI

from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.web.app import create_app
from tests.support.factories import make_paper, make_submission


def make_app(feed: PaperFeed) -> FastAPI:
    """The real web app over `feed` (the API and feed routers are among its routes)."""
    return create_app(feed)


def at(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def record(
    paper_id: str,
    title: str,
    *,
    day: str | None,
    hour: int = 0,
    upvotes: int = 0,
    submitter: str | None = "alice",
) -> Record:
    """A paper about `title` and, when `day` is given, its submission to that day's feed."""
    paper = make_paper(
        paper_id,
        title=title,
        abstract=f"We study {title.lower()} and report results.",
        version=None,
        categories=["cs.CL", "cs.LG"],
        published=at("2024-05-20"),
    )
    submission = None
    if day:
        submission = make_submission(
            paper_id,
            dt.date.fromisoformat(day),
            hour=hour,
            submitter=submitter,
            imported_upvotes=upvotes,
            source="test",
        )
    return Record(paper, submission)


KNOWN = [
    record("2405.00001", "Sparse attention transformers", day="2024-05-27", hour=1, upvotes=5),
    record(
        "2405.00002",
        "Diffusion models for images",
        day="2024-05-27",
        hour=9,
        upvotes=12,
        submitter="bob",
    ),
    record("2405.00003", "Retrieval augmented generation", day="2024-05-28", hour=3, upvotes=1),
    record(
        "hep-th/9901001",
        "Strings on a circle",
        day="2024-05-29",
        hour=2,
        upvotes=3,
        submitter="bob",
    ),
    record("2405.00009", "A withdrawn paper", day="2024-05-27", hour=5, upvotes=50),
    record("local:00000000000000aa", "A paper without arXiv id", day=None),
]
