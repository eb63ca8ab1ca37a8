"""Debian's chromium driven by Playwright, for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium (a Playwright ``Browser``), closed on exit; skips the test where
    /usr/bin/chromium or Playwright is missing. Hold it for a module at most: while it is open
    the sync Playwright API keeps an asyncio loop running in this thread, which breaks
    ``asyncio.run`` in later tests."""
    if not CHROMIUM.exists():
        pytest.skip(f"needs {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def desktop_tab(browser: Any, base_url: str) -> Iterator[Any]:
    """A tab in a fresh context of `browser` (cookies of its own) at desktop size, resolving
    relative addresses against `base_url`; the context closes on exit."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        yield tab
    finally:
        context.close()
