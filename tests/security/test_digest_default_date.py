"""`paperfeed digest send` without --date, and the in-server scheduler: yesterday's digests when
yesterday has papers, else those of the latest day with papers, plus the weekly digests of the
Sunday that ends its week; the command says which date and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from paperfeed.cli.digest import digest
from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.digest.digests import DailyDigestScheduler
from paperfeed.models import Preferences
from tests.support.factories import make_paper, make_submission
from tests.support.fakes import HashingEmbedder, RecordingMailer

FRIDAY = dt.date(2026, 11, 27)  # the latest day with papers
SUNDAY = dt.date(2026, 11, 29)  # no papers
MONDAY_MORNING = dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
def feed(settings: Settings, clock: Clock, mailer: RecordingMailer) -> Iterator[PaperFeed]:
    """Papers submitted on FRIDAY (published long before), a daily and a weekly subscriber."""
    with PaperFeed(settings, embedder=HashingEmbedder(), mailer=mailer, clock=clock) as paperfeed:
        papers = [make_paper(f"2611.0000{i}", title=f"Paper number {i}") for i in range(1, 6)]
        paperfeed.store.papers.upsert_papers(papers)
        paperfeed.store.community.save_submissions(
            make_submission(p.id, FRIDAY, hour=6 + i, imported_upvotes=10 - i)
            for i, p in enumerate(papers)
        )
        subscriptions = paperfeed.digest.subscriptions
        subscriptions.add_confirmed("daily@example.org", Preferences.create(frequency="daily"))
        subscriptions.add_confirmed("weekly@example.org", Preferences.create(frequency="weekly"))
        yield paperfeed


def _sent(feed: PaperFeed, day: dt.date) -> list[str]:
    subscribers = feed.store.subscriptions.subscribers_by_ids(
        [e.subscriber_id for e in feed.store.subscriptions.outbox(day, statuses=["sent"])]
    )
    return sorted(s.email for s in subscribers.values())


def test_send_without_date_picks_the_latest_day_with_papers_and_says_why(
    feed: PaperFeed, mailer: RecordingMailer
) -> None:
    result = CliRunner().invoke(digest, ["send"], obj=feed)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "no --date: sending the digest of 2026-11-27, the latest day with papers "
        "(yesterday, 2026-11-29, had none)"
    ) in lines
    assert (
        "no --date: sending the digest of 2026-11-29, the Sunday ending that week, "
        "for its weekly digests"
    ) in lines
    assert _sent(feed, FRIDAY) == ["daily@example.org"]
    assert _sent(feed, SUNDAY) == ["weekly@example.org"]  # the week of Friday's papers
    assert sorted(mailer.recipients()) == ["daily@example.org", "weekly@example.org"]

    again = CliRunner().invoke(digest, ["send"], obj=feed)  # cron again: nothing more
    assert again.exit_code == 0 and len(mailer.sent) == 2


def test_send_without_date_takes_yesterday_when_it_has_papers_and_a_date_is_sent_as_given(
    feed: PaperFeed, clock: Clock
) -> None:
    clock.now = dt.datetime.combine(FRIDAY + dt.timedelta(days=1), dt.time(8), dt.UTC)
    result = CliRunner().invoke(digest, ["send"], obj=feed)
    assert result.exit_code == 0, result.output
    assert "no --date: sending the digest of yesterday, 2026-11-27" in result.output.splitlines()
    assert _sent(feed, FRIDAY) == ["daily@example.org"]

    given = CliRunner().invoke(digest, ["send", "--date", "2026-11-29"], obj=feed)  # as given
    assert given.exit_code == 0 and "no --date" not in given.output
    assert _sent(feed, SUNDAY) == ["weekly@example.org"]


def test_the_scheduler_sends_the_same_dates(feed: PaperFeed, mailer: RecordingMailer) -> None:
    scheduler = DailyDigestScheduler(feed.digest, 7, clock=lambda: MONDAY_MORNING)
    reports = scheduler.run_pending()
    assert [(r.date, r.sent) for r in reports] == [(FRIDAY, 1), (SUNDAY, 1)]
    assert all(r.chosen for r in reports)
    assert scheduler.run_pending() == []  # done for today
