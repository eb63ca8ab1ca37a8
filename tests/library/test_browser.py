"""In a real browser (Debian's chromium driven by Playwright) against uvicorn: sign up, save a
paper to a collection from its page, import a .bib and open /for-you."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.core import PaperFeed
from paperfeed.query import parse_query
from paperfeed.web.app import create_app
from tests.support.browser import chromium, desktop_tab
from tests.support.net import uvicorn_serving

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]


@pytest.fixture(scope="module")
def server(site: PaperFeed) -> Iterator[str]:
    with uvicorn_serving(create_app(site)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, server: str) -> Iterator[object]:
    with desktop_tab(browser, server) as tab:
        yield tab


def test_save_import_and_for_you(page, site: PaperFeed, tmp_path: Path) -> None:
    page.goto("/signup")
    page.fill("input[name=username]", "browsing")
    page.fill("input[name=password]", "a long password")
    page.click("button:has-text('Create account')")
    assert page.locator(".who").inner_text().startswith("browsing")

    page.goto("/search?q=gaussian+splatting")
    page.locator("article.card h3 a").first.click()
    page.wait_for_url(re.compile(r"/papers/"))
    saved_id = page.url.rsplit("/papers/", 1)[1]
    page.fill("input[name=new_name]", "Splatting")
    page.click("form.save-paper button:has-text('Save')")
    page.goto("/collections")
    page.click("text=Splatting")
    page.wait_for_url(re.compile(r"/collections/.+"))
    assert page.locator(f"a[href='/papers/{saved_id}']").count() >= 1

    hits = site.search(parse_query("gaussian splatting", limit=4), mode="keyword").hits
    bib = tmp_path / "library.bib"
    bib.write_text(
        "".join(
            f"@misc{{p{i}, eprint = {{{hit.paper.id}}}, archivePrefix = {{arXiv}}}}\n"
            for i, hit in enumerate(hits)
        )
        + "@article{broken, title = {Unclosed\n"
    )
    page.goto("/library")
    page.set_input_files("input[name=library]", str(bib))
    page.click("button:has-text('Import')")
    assert "malformed BibTeX entry" in page.locator(".import-report").inner_text()

    page.click("nav >> text=For you")
    page.wait_for_url(re.compile(r"/for-you"))
    page.click("text=This week")
    cards = page.locator(".for-you article.card")
    assert cards.count() > 0
    assert "in your" in cards.first.locator(".reason").inner_text()
