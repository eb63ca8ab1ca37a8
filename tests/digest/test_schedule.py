"""One sender at a time, and the in-server daily scheduler."""

from __future__ import annotations

import datetime as dt

from paperfeed.core import PaperFeed
from paperfeed.digest.deliver import FileMailer
from paperfeed.digest.digests import DailyDigestScheduler
from paperfeed.digest.lock import sender_lock
from tests.digest.conftest import DAY, day_papers, make_service, populate


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
    assert scheduler.run_pending() is None  # before the hour
    now[0] += dt.timedelta(minutes=1)
    report = scheduler.run_pending()
    assert report is not None and report.date == DAY and report.sent == 1
    now[0] += dt.timedelta(hours=3)
    assert scheduler.run_pending() is None  # done for today
    assert len(list(feed.settings.outbox_dir.glob("*.eml"))) == 1
