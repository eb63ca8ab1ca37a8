"""Day after day, from the recorded arXiv listing and Hugging Face days: day 1 fills the feed,
search and similar papers; day 2 adds only what is new; after two days of down time both days
are caught up over OAI-PMH."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.listings import day_period
from paperfeed.query import parse_query
from paperfeed.web.app import create_app
from tests.support.arxiv_feeds import (
    first_announced,
    item_ids,
    oai_page,
    oai_query,
    records_of_items,
    rss_items,
    rss_listing,
)
from tests.support.fakes import ManualClock
from tests.sync.conftest import Upstream

DAY = dt.timedelta(days=1)


def feed_ids(feed: PaperFeed, day: dt.date) -> set[str]:
    return {item.paper.id for item in feed.listing(day_period(day), limit=500).items}


def test_day_one_fills_the_feed_search_and_similar_papers(
    sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock
) -> None:
    today = clock.now.date()
    listed = rss_items()[0::2]
    upstream.listing("stat", rss_listing(today, listed))
    hf_ids = upstream.hf_day(today, "2026-07-27.json")
    sync_feed.sync_service.add_source("arxiv", "stat")
    sync_feed.sync_service.add_source("hf-daily")

    report = sync_feed.sync()

    assert [r.error for r in report.results] == [None, None]
    arxiv, hf = report.results
    assert arxiv.report.new == len(item_ids(listed))
    assert hf.report.new == len(hf_ids)
    assert feed_ids(sync_feed, today) == first_announced(listed) | hf_ids
    assert report.embedded == arxiv.report.new + hf.report.new
    # a first sync goes 7 days back: Hugging Face was asked for each of them
    asked = sorted(p["date"] for p in upstream.requested("/api/daily_papers"))
    assert asked == [(today - n * DAY).isoformat() for n in range(6, -1, -1)]

    paper = sync_feed.store.papers.get_paper(sorted(first_announced(listed))[0])
    hits = sync_feed.search(parse_query(paper.title)).hits
    assert hits[0].paper.id == paper.id
    assert sync_feed.similar(paper.id, limit=5)
    with TestClient(create_app(sync_feed)) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert f'<time datetime="{clock.now.isoformat()}">just now</time>' in page.text
        assert client.get(f"/papers/{paper.id}").status_code == 200


def test_day_two_adds_only_the_new_papers_and_a_rerun_changes_nothing(
    sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock
) -> None:
    items = rss_items()
    day_one, day_two = clock.now.date(), clock.now.date() + DAY
    upstream.listing("stat", rss_listing(day_one, items[0::2]))
    first_hf = upstream.hf_day(day_one, "2026-06-29.json")
    sync_feed.sync_service.add_source("arxiv", "stat")
    sync_feed.sync_service.add_source("hf-daily")
    sync_feed.sync()
    before = sync_feed.count_papers()

    clock.advance(days=1)
    upstream.listing("stat", rss_listing(day_two, items[1::2]))
    second_hf = upstream.hf_day(day_two, "2026-07-27.json")
    report = sync_feed.sync()

    arxiv, hf = report.results
    assert arxiv.report.new == len(item_ids(items[1::2]))
    assert hf.report.new == len(second_hf - first_hf)
    assert hf.report.unchanged == len(first_hf)  # its cursor's day is read again (upvotes grow)
    assert sync_feed.count_papers() == before + arxiv.report.new + hf.report.new
    assert feed_ids(sync_feed, day_two) == first_announced(items[1::2]) | second_hf
    assert feed_ids(sync_feed, day_one) == first_announced(items[0::2]) | first_hf

    again = sync_feed.sync()
    assert sum(r.report.new + r.report.updated + r.report.submissions for r in again.results) == 0
    assert sync_feed.count_papers() == before + arxiv.report.new + hf.report.new


def test_two_days_of_down_time_are_caught_up_over_oai_pmh(
    sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock
) -> None:
    items = rss_items()
    parts = [items[n::4] for n in range(4)]
    day_one = clock.now.date()
    upstream.listing("stat", rss_listing(day_one, parts[0]))
    source = sync_feed.sync_service.add_source("arxiv", "stat")
    sync_feed.sync()

    clock.advance(days=3)  # down for two days: days 2 and 3 are no longer in the RSS listing
    day_two, day_three, day_four = (day_one + n * DAY for n in (1, 2, 3))
    upstream.listing("stat", rss_listing(day_four, parts[3]))
    missed_two = records_of_items(parts[1], created=day_one)
    half = len(missed_two) // 2
    upstream.server.serve(
        "/oai", oai_page(missed_two[:half], day_two, token="p2"), query=oai_query("stat", day_two)
    )
    upstream.server.serve(
        "/oai",
        oai_page(missed_two[half:], day_two),
        query={"verb": "ListRecords", "resumptionToken": "p2"},
    )
    upstream.server.serve(
        "/oai",
        oai_page(records_of_items(parts[2], created=day_two), day_three),
        query=oai_query("stat", day_three),
    )
    report = sync_feed.sync()

    (result,) = report.results
    assert result.error is None
    assert result.steps == [
        f"stat {day_two} (OAI-PMH)",
        f"stat {day_three} (OAI-PMH)",
        f"stat {day_four} (OAI-PMH)",
        f"stat {day_four} (RSS)",
    ]
    assert feed_ids(sync_feed, day_two) == item_ids(parts[1])
    assert feed_ids(sync_feed, day_three) == item_ids(parts[2])
    assert feed_ids(sync_feed, day_four) == first_announced(parts[3])
    assert sync_feed.sync_service.sources()[0].cursor == day_four.isoformat()
    assert sync_feed.store.sources.get(source.id).papers_added == len(item_ids(items))
