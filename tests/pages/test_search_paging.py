"""An honest result count and pages to the end, on both store backends: the search engine counts
every keyword match (not only the 200 it ranks first), adds the nearest neighbours that are not
one, and every page up to the last one is reachable and holds what the count promised."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import html

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.query import parse_query
from paperfeed.search import engine
from paperfeed.web.app import create_app
from paperfeed.web.pages import SEARCH_PAGE
from tests.support.factories import make_paper
from tests.support.fakes import HashingEmbedder

MATCHING = 450  # papers about attention: more than the 200 keyword matches ranked at first
OTHERS = 150
TOPICS = ["graphs", "proteins", "speech", "robots", "tables", "images", "code", "weather"]


def corpus() -> Iterator[Record]:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for n in range(MATCHING + OTHERS):
        topic = TOPICS[n % len(TOPICS)]
        about = "sparse attention for" if n < MATCHING else "convolutions for"
        yield Record(
            make_paper(
                f"2402.{n:05d}",
                title=f"Study {n} of {about} {topic}",
                abstract=f"We look at {about} {topic} in setting number {n}.",
                published=start + dt.timedelta(hours=7 * n),
            )
        )


@pytest.fixture(scope="module")
def feed(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[PaperFeed]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("paging") / "data",
        database_url=module_database_url,
        secret_key="paging",
    )
    with PaperFeed(settings, embedder=HashingEmbedder()) as paperfeed:
        paperfeed.ingest(corpus())
        paperfeed.index()
        yield paperfeed


@pytest.fixture(scope="module")
def client(feed: PaperFeed) -> Iterator[TestClient]:
    with TestClient(create_app(feed), raise_server_exceptions=False) as test_client:
        yield test_client


def every_page(feed: PaperFeed, text: str, mode: str = "hybrid", **filters: object) -> list[str]:
    found: list[str] = []
    for offset in range(0, 5000, 50):
        results = feed.search(parse_query(text, limit=50, offset=offset, **filters), mode=mode)
        found += [hit.paper.id for hit in results.hits]
        if not results.hits:
            return found
    raise AssertionError("the pages never end")


def test_keyword_total_counts_every_match(feed: PaperFeed) -> None:
    results = feed.search(parse_query("attention", limit=20), mode="keyword")
    assert results.total == MATCHING and not results.more
    assert len(every_page(feed, "attention", mode="keyword")) == MATCHING


def test_hybrid_total_is_what_the_pages_hold(feed: PaperFeed) -> None:
    results = feed.search(parse_query("sparse attention", limit=20))
    found = every_page(feed, "sparse attention")
    assert len(found) == len(set(found))  # no paper on two pages
    assert results.total == len(found) >= MATCHING  # the matches and the nearest neighbours
    assert not results.more


def test_filtered_total_counts_the_matches_that_pass(feed: PaperFeed) -> None:
    after = dt.date(2024, 2, 1)
    results = feed.search(parse_query("attention", limit=20, date_from=after), mode="keyword")
    first = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    expected = sum(
        1 for n in range(MATCHING) if (first + dt.timedelta(hours=7 * n)).date() >= after
    )
    assert 200 < expected < MATCHING
    assert (
        results.total == expected == len(every_page(feed, "attention", "keyword", date_from=after))
    )


def test_hidden_papers_are_not_counted(feed: PaperFeed) -> None:
    hidden = ["2402.00001", "2402.00002", "2402.00300"]
    for paper_id in hidden:
        feed.store.papers.set_paper_hidden(paper_id, True)
    try:
        results = feed.search(parse_query("attention", limit=20), mode="keyword")
        assert results.total == MATCHING - len(hidden)
    finally:
        for paper_id in hidden:
            feed.store.papers.set_paper_hidden(paper_id, False)


def test_a_count_past_the_cap_is_said_to_be_a_lower_bound(
    feed: PaperFeed, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "COUNT_CAP", 300)
    results = feed.search(parse_query("attention", limit=20))
    assert results.more and results.total == 300
    page = html.fromstring(client.get("/search?q=attention").text)
    assert page.xpath("string(//h2[@class='count'])").startswith("More than 300 results")


def count_line(page: html.HtmlElement) -> str:
    return " ".join(page.xpath("string(//h2[@class='count'])").split())


def test_search_page_says_how_many_and_pages_to_the_last(
    feed: PaperFeed, client: TestClient
) -> None:
    total = feed.search(parse_query("sparse attention", limit=SEARCH_PAGE)).total
    pages = math.ceil(total / SEARCH_PAGE)
    assert pages > 10  # paging stopped at page 10 before

    first = html.fromstring(client.get("/search?q=sparse+attention").text)
    assert count_line(first) == f"{total:,} results · page 1 of {pages}"
    (last_link,) = first.xpath("//nav[@aria-label='Result pages']//a[contains(., 'last')]")
    assert re.search(rf"[?&]page={pages}\b", last_link.get("href"))

    response = client.get(last_link.get("href"))
    assert response.status_code == 200
    last = html.fromstring(response.text)
    assert count_line(last) == f"{total:,} results · page {pages} of {pages}"
    cards = last.xpath("//article[contains(@class, 'card')]")
    assert len(cards) == total - (pages - 1) * SEARCH_PAGE
    assert not last.xpath("//a[@rel='next']")
    assert last.xpath("//a[@rel='prev']")


def test_every_page_number_up_to_the_last_has_its_papers(client: TestClient) -> None:
    seen: set[str] = set()
    page_number = 1
    while True:
        page = html.fromstring(client.get(f"/search?q=attention&page={page_number}").text)
        links = page.xpath("//article[contains(@class, 'card')]//h3/a/@href")
        assert links and not seen & set(links)
        seen.update(links)
        if not page.xpath("//a[@rel='next']"):
            break
        page_number += 1
    assert page_number > 10
    assert count_line(page).startswith(f"{len(seen):,} results")
