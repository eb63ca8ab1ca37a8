"""Atom feeds, read back with feedparser."""

from __future__ import annotations

import feedparser
import pytest
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from tests.support.api import make_app, record


def parse(client: TestClient, url: str, **params: str) -> feedparser.FeedParserDict:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def entry_ids(parsed: feedparser.FeedParserDict) -> list[str]:
    return [e.id.rsplit("/abs/", 1)[1] for e in parsed.entries]  # ids: arXiv abstract pages


def test_daily_feed_defaults_to_the_latest_day(client: TestClient) -> None:
    parsed = parse(client, "/feeds/daily.atom")
    assert entry_ids(parsed) == ["hep-th/9901001"]
    assert "May 29, 2024" in parsed.feed.title
    assert parsed.feed.updated == parsed.entries[0].updated == "2024-05-20T00:00:00.000Z"


def test_daily_feed_entries_are_complete(client: TestClient) -> None:
    parsed = parse(client, "/feeds/daily.atom", date="2024-05-27")
    assert entry_ids(parsed) == ["2405.00002", "2405.00001"]
    entry = parsed.entries[0]
    assert entry.id == "https://arxiv.org/abs/2405.00002"
    assert entry.title == "Diffusion models for images"
    assert entry.summary == "We study diffusion models for images and report results."
    assert [a.name for a in entry.authors] == ["Ada Lovelace", "Alan Turing"]
    assert entry.updated == "2024-05-20T00:00:00.000Z"  # the paper's date, not its submission
    assert entry.published == "2024-05-20T00:00:00.000Z"
    hrefs = {(link.rel, link.type): link.href for link in entry.links}
    assert hrefs[("alternate", "text/html")] == "http://127.0.0.1:8000/papers/2405.00002"
    assert hrefs[("related", "application/pdf")] == "https://arxiv.org/pdf/2405.00002"
    assert [t.term for t in entry.tags] == ["cs.CL", "cs.LG"]


def test_daily_feed_for_a_week(client: TestClient) -> None:
    parsed = parse(client, "/feeds/daily.atom", week="2024-W22")
    assert len(parsed.entries) == 4


def test_trending_feed_ranks_the_last_active_week(client: TestClient) -> None:
    parsed = parse(client, "/feeds/trending.atom")
    assert set(entry_ids(parsed)) == {"2405.00001", "2405.00002", "2405.00003", "hep-th/9901001"}
    assert "as of 2024-05-30" in parsed.feed.subtitle


def test_feed_of_an_empty_store_is_valid(feed: PaperFeed) -> None:
    with TestClient(make_app(feed)) as client:
        assert parse(client, "/feeds/daily.atom").entries == []
        assert parse(client, "/feeds/trending.atom").entries == []


def test_control_characters_do_not_break_the_xml(feed: PaperFeed) -> None:
    feed.ingest(iter([record("2406.00001", "Bell \x07 and form\x0cfeed", day="2024-06-03")]))
    with TestClient(make_app(feed)) as client:
        assert parse(client, "/feeds/daily.atom").entries[0].title == "Bell  and formfeed"


@pytest.mark.parametrize("params", [{"date": "2024-13-45"}, {"month": "May"}])
def test_malformed_period_is_400(client: TestClient, params: dict) -> None:
    response = client.get("/feeds/daily.atom", params=params)
    assert response.status_code == 400 and response.json()["error"]


def test_search_feed_requires_a_query(client: TestClient) -> None:
    assert client.get("/feeds/search.atom").status_code == 400


@pytest.mark.skipif(
    not hasattr(PaperFeed, "search"), reason="PaperFeed.search (search helper) has not landed yet"
)
def test_search_feed(client: TestClient) -> None:
    parsed = parse(client, "/feeds/search.atom", q="retrieval augmented generation")
    assert entry_ids(parsed)[0] == "2405.00003"
    assert "retrieval augmented generation" in parsed.feed.title
