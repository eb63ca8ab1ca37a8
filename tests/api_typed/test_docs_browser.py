"""/api/docs in Debian's chromium (Playwright) against uvicorn: Swagger UI, served by the app
itself, lists the API's operations, with no request leaving the machine and no CSP violation."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from tests.support.browser import chromium
from tests.support.net import uvicorn_serving

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser
OPERATIONS = [
    "/api/daily_papers",
    "/api/papers/search",
    "/api/papers/{paper_id}",
    "/feeds/daily.atom",
]


@pytest.fixture(scope="module")
def server_url(app: FastAPI) -> Iterator[str]:
    with uvicorn_serving(app) as url:
        yield url


def test_api_docs_render_offline_under_the_csp(server_url: str) -> None:
    console: list[str] = []
    elsewhere: list[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))

        def only_this_site(route: sync_api.Route) -> None:
            if urlsplit(route.request.url).netloc == urlsplit(server_url).netloc:
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_site)
        response = page.goto(f"{server_url}/api/docs")
        assert response is not None and response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        page.locator(".opblock-summary-path", has_text="/api/daily_papers").first.click()
        page.wait_for_selector("text=publishedAt", timeout=10_000)  # the sort enum's choices
    listed = [p.replace("\u200b", "") for p in paths]
    assert all(operation in listed for operation in OPERATIONS), listed
    assert not elsewhere
    assert not [m for m in console if "Content Security Policy" in m or "error" in m], console
