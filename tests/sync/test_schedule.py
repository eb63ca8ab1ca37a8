"""When `serve` syncs: arXiv daily after its announcement, Hugging Face through the day; a
failing source is retried sooner, backing off exponentially up to a cap, and the status says
so; a new source is due at once."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid
from paperfeed.sync.schedule import Schedule, SyncScheduler
from tests.support.arxiv_feeds import rss_items, rss_listing
from tests.support.fakes import ManualClock
from tests.support.recorded_server import Reply
from tests.sync.conftest import Upstream

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_arxiv_runs_daily_after_the_announcement_in_new_york() -> None:
    schedule = Schedule.from_settings(Settings())  # 01:00 America/New_York
    assert schedule.next_run("arxiv", at("2026-11-30 09:00")) == at("2026-12-01 06:00")
    assert schedule.next_run("arxiv", at("2026-12-01 05:59")) == at("2026-12-01 06:00")
    assert schedule.next_run("arxiv-query", at("2026-07-01 12:00")) == at("2026-07-02 05:00")


def test_hugging_face_runs_every_hour_during_the_day_only() -> None:
    schedule = Schedule.from_settings(Settings(hf_sync_minutes=60, hf_sync_hours="6-22"))
    assert schedule.next_run("hf-daily", at("2026-11-30 09:10")) == at("2026-11-30 10:10")
    assert schedule.next_run("hf-daily", at("2026-11-30 22:30")) == at("2026-12-01 06:00")
    assert schedule.next_run("hf-daily", at("2026-11-30 02:00")) == at("2026-11-30 06:00")


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    schedule = Schedule.from_settings(Settings())
    now = at("2026-11-30 09:00")
    waits = [schedule.retry_at("arxiv", n, now) - now for n in range(1, 8)]
    assert [w.total_seconds() / 60 for w in waits] == [5, 10, 20, 40, 80, 120, 120]
    # never later than the regular run (Hugging Face: an hour)
    assert schedule.retry_at("hf-daily", 6, now) == now + dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"arxiv_sync_hour": 24}, "PAPERFEED_ARXIV_SYNC_HOUR"),
        ({"arxiv_sync_timezone": "Mars/Olympus"}, "PAPERFEED_ARXIV_SYNC_TIMEZONE"),
        ({"hf_sync_hours": "22-6"}, "PAPERFEED_HF_SYNC_HOURS"),
        ({"hf_sync_minutes": 0}, "PAPERFEED_HF_SYNC_MINUTES"),
        ({"sync_first_days": 0}, "PAPERFEED_SYNC_FIRST_DAYS"),
    ],
)
def test_a_bad_schedule_setting_is_refused_by_name(
    change: dict[str, object], variable: str
) -> None:
    with pytest.raises(Invalid, match=variable):
        Schedule.from_settings(Settings().with_overrides(**change))


def test_without_network_the_scheduler_backs_off_and_the_status_says_so(
    sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock
) -> None:
    service = sync_feed.sync_service
    scheduler = SyncScheduler(service.any_due, service.sync_due)
    assert not scheduler.run_pending()  # nothing followed: nothing to do
    source = service.add_source("arxiv", "stat")
    upstream.listing("stat", Reply(drop=True))  # the connection fails: no network

    assert scheduler.run_pending()  # a new source is due at once
    failures = []
    for minutes in (5, 10, 20):
        state = sync_feed.sync_status().sources[0]
        failures.append(state.source.failures)
        assert state.state.startswith("failing")
        assert state.source.next_run_at == clock.now + dt.timedelta(minutes=minutes)
        assert not scheduler.run_pending()  # not before its time
        clock.advance(minutes=minutes)
        assert scheduler.run_pending()
    assert failures == [1, 2, 3]

    upstream.listing("stat", rss_listing(clock.now.date(), rss_items()[0::2]))
    clock.advance(minutes=40)
    assert scheduler.run_pending()
    recovered = sync_feed.store.sources.get(source.id)
    assert recovered.failures == 0 and recovered.papers_added > 0
    assert recovered.next_run_at == service.schedule.next_run("arxiv", clock.now)
    assert not scheduler.run_pending()


def test_the_scheduler_is_off_when_the_setting_says_so(
    settings: Settings, clock: ManualClock
) -> None:
    with PaperFeed(settings.with_overrides(sync_schedule=False), clock=clock) as feed:
        assert feed.start_sync_scheduler() is None
    with PaperFeed(settings, clock=clock) as feed:
        scheduler = feed.start_sync_scheduler()
        assert scheduler is not None
        scheduler.stop()
