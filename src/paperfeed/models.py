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
    code_url: str | None = None  # its code repository (code_links.repository_url's form)
    project_url: str | None = None  # its project page
    keywords: list[str] | None = None  # key phrases computed from the text; None: not yet
    # Hugging Face's fields of the paper object that have no field above (ai_keywords,
    # githubStars, organization, the authors' accounts...), as served: omitted when unknown
    hf: dict[str, Any] = field(default_factory=dict)

    @property
    def shown_keywords(self) -> list[str]:
        """Hugging Face's own keywords when it gave some, else the computed ones."""
        given = self.hf.get("ai_keywords")
        if isinstance(given, list) and any(isinstance(k, str) and k for k in given):
            return [k for k in given if isinstance(k, str) and k]
        return self.keywords or []

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
    # When the source listed it (Hugging Face's item publishedAt): equal upvotes are listed
    # newest first by it, as Hugging Face lists them; None: by `submitted_at`.
    listed_at: dt.datetime | None = None
    # Hugging Face's fields of the daily item (numComments, thumbnail, submittedBy...), as served
    hf: dict[str, Any] = field(default_factory=dict, hash=False)


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


# -- followed sources (paperfeed.sync, migration 10) -----------------------------------------

SOURCE_KINDS = ("arxiv", "arxiv-query", "hf-daily")  # a category/archive, a search, HF's days
RUN_RUNNING = "running"
RUN_OK = "ok"
RUN_FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FollowedSource:
    """A source the feed fills itself from, and where its syncs stand."""

    id: int
    kind: str  # one of SOURCE_KINDS
    value: str  # the category or archive, the query; "" for hf-daily
    cursor: str | None = None  # the last day fetched (ISO date), saved after its import commits
    added_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    last_error: str | None = None  # the reason of the latest run, when it failed
    last_error_at: dt.datetime | None = None
    failures: int = 0  # failed runs in a row (the scheduler backs off)
    next_run_at: dt.datetime | None = None  # when `serve`'s scheduler runs it next
    papers_added: int = 0  # new papers, all its runs together

    @property
    def label(self) -> str:
        return f"{self.kind} {self.value}".strip()


@dataclass(frozen=True, slots=True)
class SyncRun:
    """One sync of one source: when, how it ended, what it brought."""

    id: int
    source_id: int
    started_at: dt.datetime
    status: str  # RUN_RUNNING, RUN_OK or RUN_FAILED
    finished_at: dt.datetime | None = None
    read: int = 0
    new: int = 0  # papers the store did not have
    updated: int = 0
    submissions: int = 0  # papers put on the daily feed
    error: str | None = None


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


# -- readers: collections, follows, feedback, imported libraries (migration 12) ----------------

FOLLOW_KINDS = ("author", "category", "search")  # what a reader (and their digest) follows
DISMISSED = "dismissed"  # "not interested": the paper never comes back in their ranking
MORE_LIKE_THIS = "more"  # "more like this": the paper counts as one of their interests
FEEDBACK_KINDS = (DISMISSED, MORE_LIKE_THIS)


@dataclass(frozen=True, slots=True)
class Collection:
    """A reader's named reading list; only its owner sees it unless it is public."""

    id: int
    user_id: int
    name: str
    slug: str  # unique over the site: /collections/<slug> (or /collections/<id>)
    public: bool = False
    description: str = ""
    size: int = 0  # papers in it
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Follow:
    """One thing a reader follows: an author's name, a category or archive, a saved search. The
    same rows are their digest's categories, authors and saved searches."""

    kind: str  # one of FOLLOW_KINDS
    value: str


@dataclass(frozen=True, slots=True)
class Feedback:
    paper_id: str
    kind: str  # one of FEEDBACK_KINDS
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class LibraryInterest:
    """An entry of an imported library that matched no stored paper: its title and abstract
    still tell what the reader reads."""

    id: int
    title: str
    abstract: str = ""
    created_at: dt.datetime | None = None
