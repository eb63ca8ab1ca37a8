"""A real site for the page tests: uvicorn serving a SQLite store of real papers (the seed corpus
and two days of Hugging Face daily papers) with the accounts alice and root (an admin) and one
digest subscriber, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.files import read_jsonl
from paperfeed.ingest.hf_daily import read_hf_daily
from paperfeed.web.app import create_app
from paperfeed.web.limits import Limit, RateLimits
from tests.support.fakes import HashingEmbedder
from tests.support.net import free_port
from tests.support.paths import DATA, REPO
from tests.support.web import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
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
        feed.create_account("alice", PASSWORD, "alice@example.org")
        feed.create_account("root", PASSWORD, is_admin=True)
        subscriber = feed.digest.subscriptions.add_confirmed("reader@example.org")
        preferences_url, _ = feed.digest.renderer.manage_urls(subscriber)
        parts = urlsplit(preferences_url)
        app = create_app(feed, rate_limits=RateLimits(logins=Limit(1000, 60)))
        config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield Site(f"http://127.0.0.1:{config.port}", feed, f"{parts.path}?{parts.query}")
        server.should_exit = True
        thread.join(timeout=10)


# Module scope, not session: the sync Playwright API keeps an asyncio loop running in this thread
# while it is open, and tests of other modules on the same worker call asyncio.run.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


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
