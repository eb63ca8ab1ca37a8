"""The "Code" badge on cards, the code and project links on paper pages, and each paper's
keywords linked to a search for them (Hugging Face's own where it gave some)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.hf_daily import read_hf_daily
from paperfeed.web.app import create_app
from tests.support.fakes import HashingEmbedder
from tests.support.hub import HF_RAW, raw_day

CODE_DAY = "2026-07-27"  # no ai_keywords: keywords are computed here
KEYWORDS_DAY = "2025-10-15"  # Hugging Face's ai_keywords


@pytest.fixture
def site(settings: Settings) -> Iterator[TestClient]:
    if not HF_RAW.is_dir():
        pytest.skip(f"no shared data at {HF_RAW}")
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        for day in (CODE_DAY, KEYWORDS_DAY):
            feed.ingest(read_hf_daily(HF_RAW / f"{day}.json"))
        feed.index()  # computes the keywords of papers without them, then embeds
        with TestClient(create_app(feed)) as client:
            yield client


def badges(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<a class="code-badge" href="([^"]+)"', page)]


def test_cards_show_a_code_badge_linking_the_repository(site: TestClient) -> None:
    page = site.get("/", params={"date": CODE_DAY}).text
    repositories = [
        i["paper"]["githubRepo"] for i in raw_day(CODE_DAY) if "githubRepo" in i["paper"]
    ]
    assert sorted(badges(page)) == sorted(repositories)
    assert "★ 605" in page  # NVIDIA-NeMo/labs-molt's stars, as Hugging Face counted them


def test_paper_page_links_code_and_project_page(site: TestClient) -> None:
    page = site.get("/papers/2607.20465").text
    assert 'href="https://github.com/OpenDCAI/Data-Preparation-Bench"' in page
    assert 'href="https://datapreparationbench.github.io/"' in page
    without = site.get("/papers/2607.22043").text
    assert "code-link" not in without and "Project page" not in without


def keyword_links(page: str) -> list[tuple[str, str]]:
    found = re.search(r'<ul class="keywords">(.*?)</ul>', page, re.S)
    assert found, "no keywords on the page"
    return [
        (html.unescape(href), html.unescape(text))
        for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', found.group(1))
    ]


def test_computed_keywords_link_to_a_search_that_finds_the_paper(site: TestClient) -> None:
    links = keyword_links(site.get("/papers/2607.22529").text)
    assert 4 <= len(links) <= 8
    assert "Skill Self-Play" in [text for _, text in links]
    for href, _ in links:
        assert href.startswith("/search?q=")
        assert "/papers/2607.22529" in site.get(href).text


def test_hugging_faces_own_keywords_are_shown(site: TestClient) -> None:
    item = next(i for i in raw_day(KEYWORDS_DAY) if i["paper"].get("ai_keywords"))
    paper = item["paper"]
    shown = [text for _, text in keyword_links(site.get(f"/papers/{paper['id']}").text)]
    assert shown == [k for k in paper["ai_keywords"] if k]
