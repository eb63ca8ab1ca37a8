"""Conversion between Paper/Submission/User records and table rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from paperfeed.models import Paper, Submission, User


def utcnow() -> dt.datetime:
    """Now, as stored: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def as_date(value: object) -> dt.date | None:
    """A date column's value (SQLite returns text from some expressions, e.g. max())."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def to_naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def from_naive_utc(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def paper_values(paper: Paper, now: dt.datetime) -> dict[str, Any]:
    """Column values for a paper (everything but ``key``, ``upvotes`` and ``hidden``)."""
    return {
        "id": paper.id,
        "version": paper.version,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": "\n".join(paper.authors),
        "n_authors": paper.author_count,
        "primary_category": paper.primary_category
        or (paper.categories[0] if paper.categories else None),
        "categories": " ".join(paper.categories),
        "published": to_naive_utc(paper.published),
        "updated": to_naive_utc(paper.updated),
        "doi": paper.doi,
        "journal_ref": paper.journal_ref,
        "comments": paper.comments,
        "license": paper.license,
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "source": paper.source,
        "field_sources": paper.field_sources,
        "modified_at": now,
        "code_url": paper.code_url,
        "project_url": paper.project_url,
        "keywords": paper.keywords,
        "hf": paper.hf or None,
    }


def paper_from_row(row: Mapping[Any, Any]) -> Paper:
    authors = row["authors"].split("\n") if row["authors"] else []
    return Paper(
        id=row["id"],
        title=row["title"],
        abstract=row["abstract"],
        version=row["version"],
        authors=authors,
        n_authors=row["n_authors"],
        primary_category=row["primary_category"],
        categories=row["categories"].split() if row["categories"] else [],
        published=from_naive_utc(row["published"]),
        updated=from_naive_utc(row["updated"]),
        doi=row["doi"],
        journal_ref=row["journal_ref"],
        comments=row["comments"],
        license=row["license"],
        abs_url=row["abs_url"],
        pdf_url=row["pdf_url"],
        source=row["source"],
        field_sources=dict(row["field_sources"] or {}),
        upvotes=row["upvotes"],
        hidden=bool(row["hidden"]),
        code_url=row["code_url"],
        project_url=row["project_url"],
        keywords=row["keywords"],
        hf=dict(row["hf"] or {}),
    )


def submission_values(submission: Submission) -> dict[str, Any]:
    return {
        "paper_id": submission.paper_id,
        "day": submission.day,
        "submitted_at": to_naive_utc(submission.submitted_at),
        "submitter": submission.submitter,
        "user_id": submission.user_id,
        "imported_upvotes": submission.imported_upvotes,
        "source": submission.source,
        "hidden": submission.hidden,
        "listed_at": to_naive_utc(submission.listed_at),
        "hf": submission.hf or None,
    }


def submission_from_row(row: Mapping[Any, Any]) -> Submission:
    day = row["day"]
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return Submission(
        paper_id=row["paper_id"],
        day=day,
        submitted_at=from_naive_utc(row["submitted_at"]),  # type: ignore[arg-type]
        submitter=row["submitter"],
        user_id=row["user_id"],
        imported_upvotes=row["imported_upvotes"],
        source=row["source"],
        hidden=bool(row["hidden"]),
        listed_at=from_naive_utc(row["listed_at"]),
        hf=dict(row["hf"] or {}),
    )


def user_from_row(row: Mapping[Any, Any]) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        password_hash=row["password_hash"],
        is_admin=bool(row["is_admin"]),
        created_at=from_naive_utc(row["created_at"]),
    )
