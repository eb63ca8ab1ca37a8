"""What cards and page heads say, on both store backends: author names on cards (the first three,
then "et al.") linking to the authors' pages, a meta description on every page, OpenGraph tags on
paper pages and the favicon."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import html

from paperfeed.ingest.base import Record
from paperfeed.web.app import create_app
from tests.support.factories import make_paper, make_submission
from tests.support.web import log_in, populated_site

MANY_AUTHORS = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Émilie du Châtelet", "Kurt Gödel"]
PAGES = [
    "/",
    "/trending",
    "/search?q=attention",
    "/papers/2401.00001",
    "/about",
    "/subscribe",
    "/login",
    "/signup",
    "/submit",
    "/account",
    "/papers/0000.00000",
]


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("cards") / "data"
    with populated_site(data_dir, module_database_url) as feed:
        crowded = make_paper(
            "2401.00042", title="Attention from Five Authors", authors=MANY_AUTHORS
        )
        submission = make_submission("2401.00042", crowded.published.date(), submitter="curator")
        feed.ingest(iter([Record(crowded, submission)]))
        with TestClient(create_app(feed), raise_server_exceptions=False) as test_client:
            yield test_client


def card_authors(page: str, title: str) -> html.HtmlElement:
    tree = html.fromstring(page)
    (card,) = [
        c for c in tree.xpath("//article[contains(@class, 'card')]") if title in c.text_content()
    ]
    (line,) = card.xpath(".//p[@class='card-authors']")
    return line


def test_cards_name_the_first_three_authors_then_et_al(client: TestClient) -> None:
    page = client.get("/search?q=attention+five+authors").text
    line = card_authors(page, "Attention from Five Authors")
    assert [a.text for a in line.xpath(".//a")] == MANY_AUTHORS[:3]
    assert line.text_content().strip().endswith("Grace Hopper et al.")
    assert "Gödel" not in line.text_content()


def test_card_author_names_link_to_the_author_pages(client: TestClient) -> None:
    page = client.get("/?date=2024-01-10").text
    line = card_authors(page, "Sparse Attention Transformers")
    assert [(a.text, a.get("href")) for a in line.xpath(".//a")] == [
        ("Ada Lovelace", "/authors/Ada%20Lovelace"),
        ("Alan Turing", "/authors/Alan%20Turing"),
        ("Grace Hopper", "/authors/Grace%20Hopper"),
    ]
    assert "et al." not in line.text_content()


def test_author_names_on_cards_are_escaped(client: TestClient) -> None:
    page = client.get("/?date=2024-01-10").text
    line = card_authors(page, "Bounds when")
    assert line.xpath(".//b") == []  # "Mallory <b>Evil</b>" is a name, not markup
    assert line.xpath(".//a")[0].text == "Mallory <b>Evil</b>"


def test_every_page_has_a_meta_description_and_the_favicon(client: TestClient) -> None:
    log_in(client, "alice")
    for path in PAGES:
        tree = html.fromstring(client.get(path).text)
        (description,) = tree.xpath("//meta[@name='description']")
        assert len(description.get("content")) > 40, path
        (icon,) = tree.xpath("//link[@rel='icon']")
        assert icon.get("type") == "image/svg+xml", path
    favicon = client.get(icon.get("href"))
    assert favicon.status_code == 200
    assert favicon.headers["content-type"].startswith("image/svg+xml")
    assert html.fromstring(favicon.content).tag.endswith("svg")


def test_paper_pages_carry_opengraph_tags(client: TestClient) -> None:
    tree = html.fromstring(client.get("/papers/2401.00001").text)
    og = {
        m.get("property"): m.get("content")
        for m in tree.xpath("//meta[starts-with(@property, 'og:')]")
    }
    assert og["og:type"] == "article"
    assert og["og:title"] == "Sparse Attention Transformers for Long Documents"
    assert og["og:description"].startswith("We study sparse attention in transformers")
    assert re.fullmatch(r"https?://[^/]+/papers/2401\.00001", og["og:url"])
    description = tree.xpath("//meta[@name='description']")[0].get("content")
    assert description == og["og:description"]


def test_opengraph_tags_escape_the_title(client: TestClient) -> None:
    page = client.get("/papers/2401.00002").text
    tree = html.fromstring(page)
    (title,) = tree.xpath("//meta[@property='og:title']")
    assert title.get("content").startswith("<script>alert('title')</script>")
    assert "<script>alert" not in page.split("</head>")[0]  # only its escaped form
