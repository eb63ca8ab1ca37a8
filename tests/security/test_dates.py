"""Dates at the edges of the calendar, and anything else typed where a date goes, are answered
400 with a message (never an OverflowError's 500), with the security headers."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed import listings
from paperfeed.dates import FIRST_DAY, LAST_DAY
from paperfeed.errors import Invalid
from paperfeed.query import parse_query

EXTREME = [
    "/?date=9999-12-30",
    "/?date=0001-01-01",
    "/?week=9999-W51",
    "/?week=0001-W01",
    "/?month=9999-12",
    "/?month=0001-01",
    "/api/daily_papers?month=9999-12",
    "/api/daily_papers?date=9999-12-31",
    "/api/daily_papers?week=9999-W52&sort=trending",
    "/search?q=year:9999",
    "/search?q=before:0001",
    "/search?q=after:9999-12-31",
    "/search?q=x&from=0001-01-01",
    "/search?q=x&to=9999-12-31",
    "/api/papers/search?q=year:9999",
    "/feeds/daily.atom?date=9999-12-30",
    "/feeds/daily.atom?month=9999-12",
    "/feeds/daily.atom?week=9999-W51",
    "/feeds/search.atom?q=before:0001",
]


@pytest.mark.parametrize("url", EXTREME)
def test_extreme_dates_are_refused_with_a_message(reader: TestClient, url: str) -> None:
    response = reader.get(url)
    assert response.status_code == 400, response.text
    assert f"between {FIRST_DAY} and {LAST_DAY}" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    if url.startswith(("/api/", "/feeds/")):
        assert "must lie between" in response.json()["error"]


def test_the_edges_of_the_accepted_days_still_work(reader: TestClient) -> None:
    for url in (
        f"/?date={LAST_DAY}",
        f"/?date={FIRST_DAY}",
        "/?month=9998-12",
        "/?week=0002-W02",
        "/search?q=year:9998",
        "/search?q=before:0002-01-01",
        f"/api/daily_papers?date={LAST_DAY}&sort=trending",
    ):
        assert reader.get(url).status_code == 200, url


def test_periods_and_queries_name_the_span() -> None:
    with pytest.raises(Invalid, match="month=9999-12: dates must lie between"):
        listings.parse_period(month="9999-12", default_day=dt.date(2024, 1, 1))
    with pytest.raises(Invalid, match="before:0001 must lie between"):
        parse_query("transformers before:0001")
    with pytest.raises(Invalid, match="the last day must lie between"):
        parse_query("x", date_to=dt.date(9999, 12, 31))


# -- whatever goes where a date goes, never a 5xx ----------------------------------------------

years = st.integers(1, 9999)
days = st.dates().map(dt.date.isoformat)
weeks = st.builds(lambda y, w: f"{y:04d}-W{w:02d}", years, st.integers(0, 54))
months = st.builds(lambda y, m: f"{y:04d}-{m:02d}", years, st.integers(0, 13))
edges = st.sampled_from(
    [
        "9999-12-31",
        "0001-01-01",
        "0000-01-01",
        "9999-W52",
        "9999-W53",
        "0001-W01",
        "2020-W53",
        "2021-W53",
        "9998-W53",
        "2026-W00",
        "9999-13",
        "2024-02-30",
        "10000-01-01",
        "-001-01",
        "２０２４-01-01",
        "2024-1-1",
    ]
)
malformed = st.text(max_size=16)
values = st.one_of(days, weeks, months, edges, malformed)
queries = st.builds(
    lambda field, value: f"graph {field}:{value}",
    st.sampled_from(["year", "before", "after", "since", "until"]),
    st.one_of(years.map(lambda y: f"{y:04d}"), days, months, edges, malformed),
)
PERIOD_ROUTES = ["/", "/feeds/daily.atom", "/api/daily_papers"]
QUERY_ROUTES = ["/search", "/api/papers/search", "/feeds/search.atom"]
requests = st.one_of(
    st.tuples(st.sampled_from(PERIOD_ROUTES), st.sampled_from(["date", "week", "month"]), values),
    st.tuples(st.sampled_from(QUERY_ROUTES), st.just("q"), queries),
    st.tuples(st.just("/search"), st.sampled_from(["from", "to"]), values),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests)
def test_no_date_makes_a_server_error(reader: TestClient, request: tuple[str, str, str]) -> None:
    path, name, value = request
    params = {name: value, **({"q": "graph"} if name in ("from", "to") else {})}
    response = reader.get(path, params=params)
    assert response.status_code < 500, (path, params, response.text)
    assert response.headers["x-content-type-options"] == "nosniff"
    if response.status_code == 400:
        body = response.json()["error"] if path.startswith(("/api/", "/feeds/")) else response.text
        assert body.strip()
