"""Atom feeds: ids that outlive a change of address, the papers' own dates, a feed for every
list (head link and a visible one) and the new category, author, search and trending feeds."""

from __future__ import annotations

import re
from urllib.parse import unquote

import feedparser
import pytest
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.http_cache.conftest import other_process


def parsed(client: TestClient, path: str) -> feedparser.FeedParserDict:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"].startswith("application/atom+xml")
    document = feedparser.parse(response.content)
    assert document.bozo == 0, (path, document.get("bozo_exception"))
    return document


def test_ids_do_not_depend_on_the_base_url(client: TestClient, site: PaperFeed) -> None:
    here = parsed(client, "/feeds/daily.atom?date=2024-01-10")
    with (
        other_process(site, base_url="https://papers.example.org") as moved,
        TestClient(create_app(moved)) as moved_client,
    ):
        there = parsed(moved_client, "/feeds/daily.atom?date=2024-01-10")
    assert here.feed.id == there.feed.id
    assert [e.id for e in here.entries] == [e.id for e in there.entries]
    assert [e.id for e in here.entries] == [
        "https://arxiv.org/abs/2401.00001",
        "https://arxiv.org/abs/2401.00002",
    ]
    assert there.entries[0].link == "https://papers.example.org/papers/2401.00001"


def test_updated_is_the_papers_own_date(client: TestClient) -> None:
    first = parsed(client, "/feeds/daily.atom?date=2024-01-10")
    stamps = {e.id.rsplit("/", 1)[1]: e.updated for e in first.entries}
    assert stamps == {
        "2401.00001": "2024-01-08T00:00:00.000Z",  # published, not when it was submitted
        "2401.00002": "2024-01-09T00:00:00.000Z",
    }
    assert first.feed.updated == "2024-01-09T00:00:00.000Z"  # the newest entry's
    trending = parsed(client, "/feeds/trending.atom")
    assert trending.feed.updated == max(e.updated for e in trending.entries)
    empty = parsed(client, "/feeds/daily.atom?date=2023-01-01")
    assert empty.entries == [] and empty.feed.updated.startswith("1970-01-01")


LIST_PAGES = {
    "/": "/feeds/daily.atom",
    "/?date=2024-01-10": "/feeds/daily.atom?date=2024-01-10",
    "/?week=2024-W02": "/feeds/daily.atom?week=2024-W02",
    "/trending": "/feeds/trending.atom",
    "/search?q=attention": "/feeds/search.atom?q=attention",
    "/search?category=cs.CL": "/feeds/category/cs.CL.atom",
    "/search?author=Ada+Lovelace": "/feeds/author/Ada%20Lovelace.atom",
    "/authors/Ada%20Lovelace": "/feeds/author/Ada%20Lovelace.atom",
}


@pytest.mark.parametrize(("page", "feed"), LIST_PAGES.items())
def test_every_list_page_links_its_feed(client: TestClient, page: str, feed: str) -> None:
    html = client.get(page).text
    head = html.split("</head>")[0]
    alternates = re.findall(
        r'<link rel="alternate" type="application/atom\+xml" title="[^"]*" href="([^"]+)">', head
    )
    assert [unquote(a.replace("&amp;", "&")) for a in alternates] == [unquote(feed)]
    assert f'class="feed-link" href="{feed}"' in html.replace("&amp;", "&")
    parsed(client, feed)


def test_the_new_feeds_hold_the_right_papers(client: TestClient) -> None:
    def ids(path: str) -> set[str]:
        return {e.id.rsplit("abs/", 1)[1] for e in parsed(client, path).entries}

    assert ids("/feeds/category/cs.LG.atom") == {"2401.00001", "2401.00009"}
    assert ids("/feeds/category/hep-th.atom") == {"hep-th/9901001"}
    assert ids("/feeds/author/Rosalind%20Franklin.atom") == {"2401.00003"}
    assert ids("/feeds/author/Nobody%20Here.atom") == set()
    assert "2401.00003" in ids("/feeds/search.atom?q=protein")
    assert ids("/feeds/trending.atom") >= {"2401.00001", "2401.00003"}
    author = parsed(client, "/feeds/author/Rosalind%20Franklin.atom")
    assert author.entries[0].authors == [{"name": "Rosalind Franklin"}]
