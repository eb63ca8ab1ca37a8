"""Plain records that move between the layers: papers, submissions, users, and the digest's
subscribers, preferences and outbox rows. No I/O here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from paperfeed.errors import Invalid


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

    def replace(self, **changes: Any) -> Paper:
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
class PendingSubmission:
    """A user's submission of a paper arXiv could not give us in time (busy, slow, unreachable):
    looked up again in the background, it becomes a Submission for the same user and day."""

    paper_id: str
    day: dt.date
    submitted_at: dt.datetime
    user_id: int
    attempts: int = 1  # arXiv lookups tried so far
    next_attempt_at: dt.datetime | None = None
    last_error: str | None = None


@dataclass(slots=True, frozen=True)
class User:
    id: int
    username: str
    email: str | None
    password_hash: str | None
    is_admin: bool = False
    created_at: dt.datetime | None = None


@dataclass(slots=True, frozen=True)
class LoginSession:
    """A signed-in browser: the store keeps it under a hash of the random id in its cookie."""

    user_id: int
    csrf: str  # the session's CSRF token, echoed by every form
    created_at: dt.datetime
    last_seen: dt.datetime
    expires_at: dt.datetime  # the absolute end, whatever the activity


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


# -- e-mail digests ---------------------------------------------------------------------------

FREQUENCIES = ("daily", "weekly")
MAX_PAPERS = 50
MAX_SEARCHES = 10
MAX_AUTHORS = 50
MAX_CATEGORIES = 30
MAX_TEXT = 200
_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")

# Subscriber statuses.
PENDING = "pending"  # waiting for the confirmation link to be followed
ACTIVE = "active"
UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"  # too many permanent delivery failures: no more digests

# Outbox statuses.
OUTBOX_PENDING = "pending"  # planned, or a temporary failure to retry on the next run
OUTBOX_SENDING = "sending"  # claimed: handed (or about to be handed) to the mail server
OUTBOX_SENT = "sent"
OUTBOX_FAILED = "failed"  # refused permanently (5xx)
OUTBOX_SKIPPED = "skipped"  # nothing new to send that day, or the subscriber left
OUTBOX_STATUSES = (OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT, OUTBOX_FAILED, OUTBOX_SKIPPED)


def _texts(values: Any, limit: int, what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = values.splitlines()
    cleaned: list[str] = []
    for value in values or ():
        text = " ".join(str(value).split())
        if not text or text.casefold() in {c.casefold() for c in cleaned}:
            continue
        if len(text) > MAX_TEXT:
            raise Invalid(f"{what} entries must be at most {MAX_TEXT} characters")
        cleaned.append(text)
    if len(cleaned) > limit:
        raise Invalid(f"at most {limit} {what}")
    return tuple(cleaned)


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a subscriber wants in their digest."""

    frequency: str = "daily"  # "daily", or "weekly" (sent with the digest of each Sunday)
    max_papers: int = 10
    categories: tuple[str, ...] = ()  # e.g. "cs.CL" or a whole archive "cs"; empty = all
    searches: tuple[str, ...] = ()  # saved searches, matched by meaning
    authors: tuple[str, ...] = ()  # followed authors, matched on names
    like_upvoted: bool = True  # papers like the ones the linked account upvoted

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise Invalid(f"frequency must be one of {', '.join(FREQUENCIES)}")
        if not 1 <= self.max_papers <= MAX_PAPERS:
            raise Invalid(f"the number of papers must be between 1 and {MAX_PAPERS}")
        for category in self.categories:
            if not _CATEGORY.match(category):
                raise Invalid(f"{category!r} is not an arXiv category (like cs.CL or cs)")

    @classmethod
    def create(
        cls,
        *,
        frequency: str = "daily",
        max_papers: int | str = 10,
        categories: Any = (),
        searches: Any = (),
        authors: Any = (),
        like_upvoted: bool = True,
    ) -> Preferences:
        """Preferences from loose input (form fields, JSON): strips, de-duplicates, validates."""
        if isinstance(categories, str):
            categories = categories.replace(",", " ").split()
        try:
            count = int(max_papers)
        except (TypeError, ValueError):
            raise Invalid("the number of papers must be a whole number") from None
        return cls(
            frequency=str(frequency),
            max_papers=count,
            categories=_texts(categories, MAX_CATEGORIES, "categories"),
            searches=_texts(searches, MAX_SEARCHES, "saved searches"),
            authors=_texts(authors, MAX_AUTHORS, "followed authors"),
            like_upvoted=bool(like_upvoted),
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Preferences:
        return cls.create(**(data or {}))


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    status: str
    prefs: Preferences = field(default_factory=Preferences)
    user_id: int | None = None  # the account whose upvotes feed "papers like the ones I upvoted"
    failures: int = 0  # permanent delivery failures in a row
    created_at: dt.datetime | None = None
    confirmed_at: dt.datetime | None = None
    token_generation: int = 0  # in every signed link; raising it invalidates the earlier links


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One subscriber's digest of one date, and how far its delivery got."""

    id: int
    subscriber_id: int
    digest_date: dt.date
    status: str
    attempts: int = 0
    last_error: str | None = None
    message_id: str | None = None
    sent_at: dt.datetime | None = None
