"""One sender at a time, and the in-server daily scheduler."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.digest.deliver import FileMailer
from paperfeed.digest.digests import DailyDigestScheduler
from paperfeed.digest.lock import sender_lock
from paperfeed.models import Preferences
from tests.support.digest import DAY, day_papers, make_service, populate
from tests.support.fakes import HashingEmbedder, RecordingMailer


def test_second_sender_backs_off_while_the_lock_is_held(feed: PaperFeed) -> None:
    populate(feed, day_papers(10))
    service = make_service(feed, mailer=lambda: FileMailer(feed.settings.outbox_dir))
    service.subscriptions.add_confirmed("a@example.org")
    with sender_lock(feed.store, feed.settings.data_dir) as held:  # file or advisory lock
        assert held
        report = service.send(DAY)
        assert report.locked and report.sent == 0
    assert service.send(DAY).sent == 1


def test_scheduler_sends_yesterday_once_after_the_hour(feed: PaperFeed) -> None:
    populate(feed, day_papers(10))
    service = make_service(feed, mailer=lambda: FileMailer(feed.settings.outbox_dir))
    service.subscriptions.add_confirmed("a@example.org")
    now = [dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(6, 59), dt.UTC)]
    scheduler = DailyDigestScheduler(service, 7, clock=lambda: now[0])
    assert scheduler.run_pending() == []  # before the hour
    now[0] += dt.timedelta(minutes=1)
    [report] = scheduler.run_pending()
    assert report.date == DAY and report.sent == 1
    now[0] += dt.timedelta(hours=3)
    assert scheduler.run_pending() == []  # done for today
    assert len(list(feed.settings.outbox_dir.glob("*.eml"))) == 1


def test_the_feed_starts_its_scheduler_only_with_a_digest_hour(settings: Settings) -> None:
    with PaperFeed(settings) as feed:
        assert feed.start_digest_scheduler() is None
    mailer = RecordingMailer()
    after_the_hour = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(7, 30), dt.UTC)
    with PaperFeed(
        replace(settings, digest_hour=7),
        embedder=HashingEmbedder(),
        mailer=mailer,
        clock=lambda: after_the_hour,
    ) as feed:
        populate(feed, day_papers(10))
        feed.digest.subscriptions.add_confirmed("a@example.org", Preferences.create(max_papers=3))
        scheduler = feed.start_digest_scheduler()
        assert scheduler is not None
        try:
            deadline = time.monotonic() + 30
            while not mailer.sent and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            scheduler.stop()
        assert mailer.recipients() == ["a@example.org"]
        [entry] = feed.store.subscriptions.outbox(DAY)
        assert entry.status == "sent"
