"""Listings: day / week / month periods with prev/next navigation, trending, the Hub listing.

Pure functions over store results; the web pages, the API and the digests all call these.

Periods are written the way the pages link them: ``?date=2024-05-27`` (one day),
``?week=2024-W22`` (ISO week, Monday to Sunday), ``?month=2024-05``.

Trending ranks the visible submissions of the last ``trending_window_days`` days by

    score = (upvotes + 1) / (age_hours + 2) ** gravity

where ``age_hours`` is the time since the paper was submitted to the feed and ``gravity``
(``trending_gravity``) sets how fast old papers sink: the "+1" lets a paper without votes still
rank by freshness, the "+2" keeps brand-new submissions from dividing by (almost) zero.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from paperfeed.config import Settings
from paperfeed.dates import check_day
from paperfeed.errors import Invalid
from paperfeed.models import FeedItem
from paperfeed.store import SqlStore

PeriodKind = Literal["day", "week", "month"]
SORTS = ("upvotes", "date")

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class Period:
    """A range of feed days, inclusive at both ends."""

    kind: PeriodKind
    start: dt.date
    end: dt.date

    @property
    def param(self) -> tuple[str, str]:
        """The query parameter that selects this period: ("date" | "week" | "month", value)."""
        if self.kind == "day":
            return "date", self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return "week", f"{year}-W{week:02d}"
        return "month", f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%b} {self.start.day}, {self.start.year}"
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            first, last = self.start, self.end
            return f"Week {week}, {year} ({first:%b} {first.day} – {last:%b} {last.day})"
        return self.start.strftime("%B %Y")

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def day_period(day: dt.date) -> Period:
    return Period("day", day, day)


def week_period(day: dt.date) -> Period:
    """The ISO week (Monday to Sunday) holding `day`."""
    start = day - dt.timedelta(days=day.weekday())
    return Period("week", start, start + dt.timedelta(days=6))


def month_period(day: dt.date) -> Period:
    start = day.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return Period("month", start, following - dt.timedelta(days=1))


PERIODS = {"day": day_period, "week": week_period, "month": month_period}


def period_of(kind: PeriodKind, day: dt.date) -> Period:
    """The period of `kind` that holds `day`."""
    return PERIODS[kind](day)


def parse_period(
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    *,
    default_day: dt.date,
) -> Period:
    """The period a request asks for; `default_day` when it names none. Raises Invalid for a
    malformed one and for one outside the days paperfeed accepts (paperfeed.dates)."""
    given = [name for name, value in (("date", date), ("week", week), ("month", month)) if value]
    if len(given) > 1:
        raise Invalid(f"give only one of date, week or month (got {', '.join(given)})")
    if not given:
        return day_period(default_day)
    try:
        first = _first_day(date, week, month)
    except ValueError:
        raise Invalid(
            "dates are written date=YYYY-MM-DD, week=YYYY-Www (ISO week) or month=YYYY-MM"
        ) from None
    kind: PeriodKind = "day" if date else "week" if week else "month"
    check_day(first, f"{given[0]}={date or week or month}: dates")
    period = period_of(kind, first)
    check_day(period.end, f"{given[0]}={date or week or month}: dates")
    return period


def _first_day(date: str | None, week: str | None, month: str | None) -> dt.date:
    """The first day of the period written in the one given argument; ValueError if malformed."""
    if date:
        if not _DAY.match(date):
            raise ValueError(date)
        return dt.date.fromisoformat(date)
    match = _WEEK.match(week) if week else _MONTH.match(month or "")
    if not match:
        raise ValueError(week or month)
    year, number = int(match[1]), int(match[2])
    return dt.date.fromisocalendar(year, number, 1) if week else dt.date(year, number, 1)


def parse_sort(sort: str | None) -> str:
    if not sort:
        return "upvotes"
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}")
    return sort


@dataclass(frozen=True, slots=True)
class FeedPage:
    period: Period
    items: list[FeedItem]
    previous: Period | None  # the nearest earlier period with submissions
    next: Period | None  # the nearest later period with submissions
    sort: str
    offset: int
    has_more: bool


def adjacent_periods(store: SqlStore, period: Period) -> tuple[Period | None, Period | None]:
    """The nearest periods of the same kind before and after `period` that have submissions."""
    before, _ = store.community.adjacent_days(period.start)
    _, after = store.community.adjacent_days(period.end)
    return (
        period_of(period.kind, before) if before else None,
        period_of(period.kind, after) if after else None,
    )


def feed_page(
    store: SqlStore, period: Period, *, sort: str = "upvotes", limit: int = 50, offset: int = 0
) -> FeedPage:
    """One page of the feed for `period`, with links to its neighbours."""
    items = store.community.listing(
        period.start, period.end, sort=sort, limit=limit + 1, offset=offset
    )
    previous, following = adjacent_periods(store, period)
    return FeedPage(
        period=period,
        items=items[:limit],
        previous=previous,
        next=following,
        sort=sort,
        offset=offset,
        has_more=len(items) > limit,
    )


def default_day(store: SqlStore, today: dt.date | None = None) -> dt.date:
    """The latest day with submissions, else today."""
    return store.community.latest_day() or today or dt.datetime.now(dt.UTC).date()


# -- trending --------------------------------------------------------------------------------


def trending_score(upvotes: int, age_hours: float, gravity: float) -> float:
    """``(upvotes + 1) / (age_hours + 2) ** gravity``; negative ages count as 0."""
    return float((max(upvotes, 0) + 1) / (max(age_hours, 0.0) + 2) ** gravity)


@dataclass(frozen=True, slots=True)
class TrendingItem:
    item: FeedItem
    score: float
    age_hours: float


@dataclass(frozen=True, slots=True)
class Trending:
    items: list[TrendingItem]
    as_of: dt.datetime  # the moment ages are measured from (aware UTC)
    archived: bool  # True when nothing was submitted in the window before now (see trending())
    gravity: float
    window_days: int


def rank_trending(
    items: list[FeedItem], *, now: dt.datetime, gravity: float, limit: int = 50
) -> list[TrendingItem]:
    """Score `items` at `now` and return the best `limit`, best first (ties: newer, then id)."""
    scored = []
    for item in items:
        submitted = _aware(item.submission.submitted_at)
        age = (now - submitted).total_seconds() / 3600
        scored.append(TrendingItem(item, trending_score(item.upvotes, age, gravity), max(age, 0.0)))
    scored.sort(key=lambda t: (-t.score, t.age_hours, t.item.paper.id))
    return scored[:limit]


def trending(
    store: SqlStore, settings: Settings, *, now: dt.datetime | None = None, limit: int = 50
) -> Trending:
    """Trending submissions of the ``settings.trending_window_days`` before `now`, ranked with
    ``settings.trending_gravity``.

    A store whose newest submission is older than the window (an imported archive, a quiet
    instance) is ranked as of the end of its latest feed day instead, with ``archived=True``,
    so the page shows the last active week rather than nothing.
    """
    gravity, window_days = settings.trending_gravity, settings.trending_window_days
    now = _aware(now or dt.datetime.now(dt.UTC))
    window = dt.timedelta(days=window_days)
    candidates = store.community.submissions_since(now - window)
    archived = False
    if not candidates:
        latest = store.community.latest_day()
        if latest is not None:
            as_of = dt.datetime.combine(latest + dt.timedelta(days=1), dt.time(), dt.UTC)
            if as_of < now:
                now, archived = as_of, True
                candidates = [
                    c
                    for c in store.community.submissions_since(now - window)
                    if _aware(c.submission.submitted_at) <= now
                ]
    ranked = rank_trending(candidates, now=now, gravity=gravity, limit=limit)
    return Trending(ranked, as_of=now, archived=archived, gravity=gravity, window_days=window_days)


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# -- the Hub-compatible listing ----------------------------------------------------------------

API_SORTS = ("publishedAt", "trending", "upvotes")
TRENDING_POOL = 10_000  # most submissions of one period ranked for sort=trending


@dataclass(frozen=True, slots=True)
class DailyPapersRequest:
    """What ``/api/daily_papers`` (``HfApi.list_daily_papers``) asks for."""

    date: str | None = None
    week: str | None = None
    month: str | None = None
    submitter: str | None = None
    sort: str | None = None  # publishedAt, trending or upvotes
    page: int = 0
    limit: int = 50


def daily_papers(
    store: SqlStore, request: DailyPapersRequest, settings: Settings, *, now: dt.datetime
) -> list[FeedItem]:
    """The feed items of one API page.

    With a date, week or month the default order is most upvoted first (as the Hub serves a day);
    without one every day is listed, newest submission first, and ``page`` pages back in time.
    """
    sort = request.sort
    if sort is not None and sort not in API_SORTS:
        raise Invalid(f"sort must be one of {', '.join(API_SORTS)}")
    has_period = bool(request.date or request.week or request.month)
    if has_period:
        period = parse_period(request.date, request.week, request.month, default_day=dt.date.min)
        start, end = period.start, period.end
    else:
        start, end = dt.date.min, dt.date.max
    sort = sort or ("upvotes" if has_period else "publishedAt")
    limit, offset, submitter = request.limit, request.page * request.limit, request.submitter
    if sort != "trending":
        store_sort = "date" if sort == "publishedAt" else "upvotes"
        return store.community.listing(
            start, end, sort=store_sort, limit=limit, offset=offset, submitter=submitter
        )
    if not has_period:
        ranked = trending(store, settings, now=now, limit=TRENDING_POOL).items
        items = [t.item for t in ranked]
        if submitter:
            items = [i for i in items if i.submission.submitter == submitter]
        return items[offset : offset + limit]
    pool = store.community.listing(
        start, end, sort="upvotes", limit=TRENDING_POOL, submitter=submitter
    )
    period_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    top = rank_trending(
        pool,
        now=min(_aware(now), period_end),
        gravity=settings.trending_gravity,
        limit=offset + limit,
    )
    return [t.item for t in top[offset:]]
