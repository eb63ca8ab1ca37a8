"""Plain records that move between ingest, store, search and the web: no I/O here."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field


@dataclass(slots=True)
class Paper:
    """One paper. `id` is the canonical arXiv id without version (e.g. ``2401.01234``,
    ``hep-th/9901001``) or, for papers without one, a stable local id (``local:<hash>``)."""

    id: str
    title: str
    abstract: str
    version: int | None = None  # latest arXiv version; None when the source does not say
    authors: list[str] = field(default_factory=list)
    n_authors: int | None = None  # when only a count is known (authors may be empty)
    primary_category: str | None = None
    categories: list[str] = field(default_factory=list)
    published: dt.datetime | None = None  # first version
    updated: dt.datetime | None = None  # latest version
    doi: str | None = None
    journal_ref: str | None = None
    comments: str | None = None
    license: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    source: str = "unknown"  # which ingest source produced this record
    # fields that came from another source than `source` (set by the store when records merge)
    field_sources: dict[str, str] = field(default_factory=dict)
    upvotes: int = 0  # community upvotes (imported + local votes); read-only for ingest
    hidden: bool = False

    @property
    def is_arxiv(self) -> bool:
        return not self.id.startswith("local:")

    def source_of(self, field_name: str) -> str:
        """Which ingest source the value of `field_name` came from."""
        return self.field_sources.get(field_name, self.source)

    @property
    def author_count(self) -> int:
        return len(self.authors) if self.authors else (self.n_authors or 0)

    def replace(self, **changes: object) -> Paper:
        return dataclasses.replace(self, **changes)


@dataclass(slots=True, frozen=True)
class Submission:
    """A paper put on the daily feed for `day` by a submitter (a local user or an imported name)."""

    paper_id: str
    day: dt.date
    submitted_at: dt.datetime
    submitter: str | None = None  # display name / username
    user_id: int | None = None  # local user, when submitted here
    imported_upvotes: int = 0  # upvotes carried over from the source (e.g. Hugging Face)
    source: str = "local"
    hidden: bool = False


@dataclass(slots=True, frozen=True)
class User:
    id: int
    username: str
    email: str | None
    password_hash: str | None
    is_admin: bool = False
    created_at: dt.datetime | None = None


@dataclass(slots=True, frozen=True)
class FeedItem:
    """A submission joined with its paper, as listed on the daily pages."""

    paper: Paper
    submission: Submission
    upvotes: int


@dataclass(slots=True, frozen=True)
class SkippedRecord:
    """A malformed input record: where it was and why it was skipped."""

    location: str  # e.g. "file.jsonl:17" or "https://...#record 3"
    reason: str
