"""End to end in a real browser: Debian's chromium driven by Playwright against uvicorn serving
a store of real papers (the seed corpus, arXiv listings and Hugging Face daily papers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.ingest.files import read_jsonl
from paperfeed.ingest.hf_daily import read_hf_daily
from paperfeed.web.app import create_app
from tests.support.browser import chromium, desktop_tab
from tests.support.fakes import HashingEmbedder
from tests.support.net import uvicorn_serving
from tests.support.paths import DATA, REPO

HF_DAYS = ["2026-06-29.json", "2026-07-27.json"]
UNSUBMITTED = 40  # arXiv listings loaded without a feed submission (to submit in the test)
SCREENSHOTS = REPO / "test-output"


@dataclass(frozen=True)
class Site:
    url: str
    feed: PaperFeed
    unsubmitted: list[str]  # arXiv ids in the store that nobody submitted yet


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """uvicorn in a thread on a free port, over a SQLite store of real data."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("browser") / "data", secret_key="browser", arxiv_delay=0
    )
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        feed.ingest(read_jsonl(DATA / "seed_papers.jsonl"))
        for name in HF_DAYS:
            feed.ingest(read_hf_daily(DATA / "hf_daily_papers" / "raw" / name))
        listings = read_jsonl(DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz")
        fresh = [r for r in islice(listings, UNSUBMITTED) if isinstance(r, Record)]
        feed.ingest(iter([Record(r.paper) for r in fresh]))
        feed.index()
        with uvicorn_serving(create_app(feed)) as url:
            yield Site(url, feed, [r.paper.id for r in fresh])


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, site) -> Iterator[object]:
    with desktop_tab(browser, site.url) as tab:
        yield tab


def test_daily_feed_with_real_papers(page, site: Site) -> None:
    feed = site.feed
    latest = feed.store.community.latest_day()
    page.goto("/")
    cards = page.locator("article.card")
    expected = len(feed.store.community.listing(latest, latest, limit=30))
    assert cards.count() == expected > 5
    top = feed.store.community.listing(latest, latest, limit=1)[0]
    assert cards.first.locator("h3 a").inner_text().endswith(top.paper.title[-20:])
    assert cards.first.locator(".vote-button .count").inner_text() == str(top.upvotes)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "feed.png"), full_page=False)
    page.locator("a.prev").click()
    page.wait_for_url(re.compile(r"date="))
    assert page.locator("article.card").count() > 0


def test_search_and_open_a_paper(page) -> None:
    page.goto("/")
    page.fill(".nav-search input[name=q]", "diffusion")
    page.press(".nav-search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=diffusion"))
    assert page.locator("article.card").count() > 0
    assert page.locator("article.card mark").first.inner_text().lower().startswith("diffusion")
    title = page.locator("article.card h3 a").first
    name = title.inner_text()
    title.click()
    page.wait_for_url(re.compile(r"/papers/"))
    assert page.locator("h1.paper-title").inner_text() == name
    assert page.locator(".links a", has_text="PDF").count() == 1
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "paper.png"), full_page=True)


def test_sign_up_upvote_and_submit(page, site: Site) -> None:
    page.goto("/")
    page.click("text=Sign up")
    page.fill("input[name=username]", "reader1")
    page.fill("input[name=password]", "a long password")
    page.click("button:has-text('Create account')")
    assert page.locator(".who").inner_text().startswith("reader1")

    vote = page.locator("article.card .vote-button").first
    before = int(vote.locator(".count").inner_text())
    vote.click()
    page.wait_for_load_state()
    vote = page.locator("article.card .vote-button").first
    assert "voted" in (vote.get_attribute("class") or "")
    assert int(vote.locator(".count").inner_text()) == before + 1

    paper_id = site.unsubmitted[0]
    page.goto("/submit")
    page.fill("input[name=arxiv_id]", f"https://arxiv.org/abs/{paper_id}")
    page.click("button:has-text('Submit')")
    page.wait_for_url(re.compile(re.escape(f"/papers/{paper_id}")))
    assert "by reader1" in page.locator(".meta").first.inner_text()
    page.goto("/submit")
    page.fill("input[name=arxiv_id]", paper_id)
    page.click("button:has-text('Submit')")
    assert "already submitted on" in page.locator("p.error").inner_text()

    page.click("button:has-text('Log out')")
    page.locator("text=Log in").first.wait_for()  # the page after log-out, as a visitor sees it
    assert page.locator(".who").count() == 0
    page.click("text=Log in")
    page.fill("input[name=username]", "reader1")
    page.fill("input[name=password]", "a long password")
    page.click("form.stacked button:has-text('Log in')")
    assert page.locator(".who").inner_text().startswith("reader1")
