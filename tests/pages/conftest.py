"""A real site for the page tests: uvicorn serving a SQLite store of real papers (the seed corpus
and two days of Hugging Face daily papers) with the accounts alice and root (an admin) and one
digest subscriber, and Debian's chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.files import read_jsonl
from paperfeed.ingest.hf_daily import read_hf_daily
from paperfeed.web.app import create_app
from paperfeed.web.limits import Limit, RateLimits
from tests.support.browser import chromium
from tests.support.fakes import HashingEmbedder
from tests.support.net import uvicorn_serving
from tests.support.paths import DATA, REPO
from tests.support.web import PASSWORD

HF_DAYS = ["2026-06-29.json", "2026-07-27.json"]
SCREENSHOTS = REPO / "test-output"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Site:
    url: str
    feed: PaperFeed
    preferences_path: str  # a subscriber's preferences page (its link from an e-mail)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("pages") / "data", secret_key="pages", arxiv_delay=0
    )
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        feed.ingest(read_jsonl(DATA / "seed_papers.jsonl"))
        for name in HF_DAYS:
            feed.ingest(read_hf_daily(DATA / "hf_daily_papers" / "raw" / name))
        feed.index()
        feed.community.create_account("alice", PASSWORD, "alice@example.org")
        feed.community.create_account("root", PASSWORD, is_admin=True)
        subscriber = feed.digest.subscriptions.add_confirmed("reader@example.org")
        preferences_url, _ = feed.digest.renderer.manage_urls(subscriber)
        parts = urlsplit(preferences_url)
        app = create_app(feed, rate_limits=RateLimits(logins=Limit(1000, 60)))
        with uvicorn_serving(app) as url:
            yield Site(url, feed, f"{parts.path}?{parts.query}")


# Module scope, not session: see tests.support.browser.chromium.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


def open_page(browser: object, site: Site, viewport: dict[str, int], user: str | None = None):
    """A new tab at `viewport` size (axe is injected past the CSP, as a browser extension
    would be), logged in as `user` when given."""
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=site.url, viewport=viewport, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    if user is not None:
        page.goto("/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
    return page
