"""What the digest tests share: one day of real papers submitted to the feed, a recording SMTP
handler for a real (aiosmtpd) server, and a DigestService tuned to the test embedder."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.policy import default as default_policy
from itertools import islice
from typing import Any

from paperfeed.config import Settings, SmtpSettings
from paperfeed.core import PaperFeed
from paperfeed.digest.compose import ComposeOptions
from paperfeed.digest.digests import DigestService
from paperfeed.ingest.base import Record
from paperfeed.ingest.files import read_jsonl
from paperfeed.models import Paper
from tests.support.factories import DAY, make_submission
from tests.support.paths import DATA

BASE_URL = "https://papers.example.org"
SENDER = "paperfeed <digest@papers.example.org>"
# The fake embedder is a bag of words: its cosines run lower than a real model's.
OPTIONS = ComposeOptions(min_similarity=0.15)


@dataclass
class Arrival:
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=default_policy)  # type: ignore[return-value]


@dataclass
class Recorder:
    """aiosmtpd handler: records accepted messages; answers can be scripted per recipient."""

    arrivals: list[Arrival] = field(default_factory=list)
    rcpt_answers: dict[str, deque[str]] = field(default_factory=dict)  # address -> answers
    hold_after: int | None = None  # hold the DATA after this many arrivals (crash tests)
    record_held: bool = False  # whether the held message counts as accepted by the server
    held: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answers = self.rcpt_answers.get(address)
        if answers:
            return answers.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if (
            self.hold_after is not None
            and len(self.arrivals) >= self.hold_after
            and not self.held.is_set()
        ):
            if self.record_held:
                self.arrivals.append(Arrival(list(envelope.rcpt_tos), envelope.content))
            self.held.set()  # the test kills the sender now, before it sees the reply
            await asyncio.sleep(5)
            return "451 too late"
        self.arrivals.append(Arrival(list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, list[Arrival]]:
        found: dict[str, list[Arrival]] = {}
        for arrival in self.arrivals:
            for rcpt in arrival.recipients:
                found.setdefault(rcpt, []).append(arrival)
        return found


def day_papers(count: int = 40) -> list[Paper]:
    """Real papers (with authors and categories) from the arXiv crawl."""
    source = read_jsonl(DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz")
    records = [r for r in islice(source, count * 2) if isinstance(r, Record)]
    return [r.paper for r in records if r.paper.authors][:count]


def populate(feed: PaperFeed, papers: list[Paper], day: dt.date = DAY) -> None:
    """Submit `papers` to the feed on `day`, the first ones with the most upvotes."""
    feed.store.papers.upsert_papers(papers)
    start = dt.datetime.combine(day, dt.time(6), dt.UTC)
    feed.store.community.save_submissions(
        make_submission(
            p.id,
            day,
            submitted_at=start + dt.timedelta(minutes=i),
            submitter="tester",
            imported_upvotes=len(papers) - i,
        )
        for i, p in enumerate(papers)
    )


def sending_to_test_smtp(settings: Settings, port: int) -> Settings:
    """`settings` that mail through the test SMTP server on `port` (plain, from SENDER), link
    to BASE_URL and retry a failed delivery at once."""
    smtp = SmtpSettings(host="127.0.0.1", port=port, security="none", sender=SENDER)
    return replace(settings, base_url=BASE_URL, smtp=smtp, digest_retry_delay=0.01)


def make_service(feed: PaperFeed, **kwargs: Any) -> DigestService:
    """A DigestService on the feed's store and search, with options for the test embedder."""
    return DigestService(
        feed.store, feed.settings, vectors=feed.search_engine, options=OPTIONS, **kwargs
    )
