"""Feed periods, prev/next navigation and the trending formula over a real SQLite store."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed import listings
from paperfeed.config import Settings
from paperfeed.errors import Invalid
from paperfeed.models import Paper
from tests.support.factories import make_submission

UTC = dt.UTC


def _add(store, paper_id: str, day: dt.date, upvotes: int = 0, hour: int = 9) -> None:
    store.papers.upsert_papers([Paper(id=paper_id, title=f"Paper {paper_id}", abstract="Text.")])
    store.community.save_submissions(
        [make_submission(paper_id, day, hour=hour, submitter="someone", imported_upvotes=upvotes)]
    )


def test_parse_period_kinds_and_bounds() -> None:
    today = dt.date(2024, 5, 29)
    assert listings.parse_period(default_day=today) == listings.day_period(today)
    day = listings.parse_period(date="2024-02-29", default_day=today)
    assert (day.start, day.end) == (dt.date(2024, 2, 29), dt.date(2024, 2, 29))
    assert day.param == ("date", "2024-02-29")
    week = listings.parse_period(week="2024-W22", default_day=today)
    assert (week.start, week.end) == (dt.date(2024, 5, 27), dt.date(2024, 6, 2))
    assert week.param == ("week", "2024-W22")
    month = listings.parse_period(month="2024-02", default_day=today)
    assert (month.start, month.end, month.param) == (
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 29),
        ("month", "2024-02"),
    )
    assert listings.month_period(dt.date(2023, 12, 31)).end == dt.date(2023, 12, 31)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"date": "2024-13-01"},
        {"date": "yesterday"},
        {"date": "2024-5-1"},
        {"week": "2024-W54"},
        {"week": "2024-22"},
        {"month": "2024-00"},
        {"month": "May"},
        {"date": "2024-05-01", "month": "2024-05"},
    ],
)
def test_parse_period_rejects_malformed(kwargs: dict[str, str]) -> None:
    with pytest.raises(Invalid):
        listings.parse_period(**kwargs, default_day=dt.date(2024, 1, 1))


def test_parse_sort() -> None:
    assert listings.parse_sort(None) == "upvotes"
    assert listings.parse_sort("date") == "date"
    with pytest.raises(Invalid):
        listings.parse_sort("random")


def test_feed_page_skips_empty_neighbours_and_pages(feed) -> None:
    store = feed.store
    _add(store, "2401.00001", dt.date(2024, 1, 2), upvotes=5)
    _add(store, "2401.00002", dt.date(2024, 1, 10), upvotes=1)
    _add(store, "2401.00003", dt.date(2024, 1, 10), upvotes=9, hour=8)
    _add(store, "2402.00001", dt.date(2024, 2, 20))
    page = listings.feed_page(store, listings.day_period(dt.date(2024, 1, 10)))
    assert [i.paper.id for i in page.items] == ["2401.00003", "2401.00002"]
    assert page.previous == listings.day_period(dt.date(2024, 1, 2))
    assert page.next == listings.day_period(dt.date(2024, 2, 20))
    by_date = listings.feed_page(store, page.period, sort="date")
    assert [i.paper.id for i in by_date.items] == ["2401.00002", "2401.00003"]
    first = listings.feed_page(store, page.period, limit=1)
    assert first.has_more and len(first.items) == 1
    assert not listings.feed_page(store, page.period, limit=1, offset=1).has_more
    month = listings.feed_page(store, listings.month_period(dt.date(2024, 1, 15)))
    assert len(month.items) == 3 and month.previous is None
    assert month.next == listings.month_period(dt.date(2024, 2, 1))
    assert listings.default_day(store) == dt.date(2024, 2, 20)


def test_trending_score_prefers_votes_and_freshness() -> None:
    assert listings.trending_score(10, 5, 1.8) > listings.trending_score(2, 5, 1.8)
    assert listings.trending_score(10, 5, 1.8) > listings.trending_score(10, 50, 1.8)
    assert listings.trending_score(0, 0, 1.8) == pytest.approx(1 / 2**1.8)
    assert listings.trending_score(3, -4, 2.0) == listings.trending_score(3, 0, 2.0)


def test_trending_ranks_window_with_formula(feed) -> None:
    store = feed.store
    now = dt.datetime(2024, 3, 10, 12, tzinfo=UTC)
    _add(store, "old-loud", dt.date(2024, 3, 4), upvotes=40)  # 6 days old
    _add(store, "new-quiet", dt.date(2024, 3, 10), upvotes=3)  # 3 hours old
    _add(store, "outside", dt.date(2024, 2, 20), upvotes=500)
    result = listings.trending(
        store, Settings(trending_gravity=1.8, trending_window_days=7), now=now
    )
    assert not result.archived
    assert [t.item.paper.id for t in result.items] == ["new-quiet", "old-loud"]
    top = result.items[0]
    assert top.age_hours == pytest.approx(3)
    assert top.score == pytest.approx((3 + 1) / (3 + 2) ** 1.8)
    # with no gravity, votes alone decide
    flat = listings.trending(store, Settings(trending_gravity=0.0, trending_window_days=7), now=now)
    assert flat.items[0].item.paper.id == "old-loud"


def test_trending_falls_back_to_latest_day_for_archives(feed) -> None:
    store = feed.store
    _add(store, "2401.00001", dt.date(2024, 1, 2), upvotes=5)
    _add(store, "2312.00001", dt.date(2023, 12, 1), upvotes=50)
    now = dt.datetime(2024, 6, 1, tzinfo=UTC)
    result = listings.trending(
        store, Settings(trending_gravity=1.8, trending_window_days=7), now=now
    )
    assert result.archived
    assert result.as_of == dt.datetime(2024, 1, 3, tzinfo=UTC)
    assert [t.item.paper.id for t in result.items] == ["2401.00001"]
    assert listings.trending(
        feed.store, Settings(trending_gravity=1.8, trending_window_days=7)
    ).archived
