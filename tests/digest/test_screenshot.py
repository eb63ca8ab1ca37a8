"""The HTML part of a real digest rendered by headless Chromium: saved as a PNG for review."""

from __future__ import annotations

import pytest

from paperfeed.core import PaperFeed
from paperfeed.models import Paper, Preferences
from tests.support.browser import chromium
from tests.support.digest import DAY, Recorder, make_service
from tests.support.paths import REPO

OUTPUT = REPO / "test-output"


def test_rendered_digest_screenshot(
    smtp_feed: PaperFeed, smtp: tuple[Recorder, int], papers: list[Paper]
) -> None:
    if smtp_feed.settings.database_url:  # one picture is enough
        pytest.skip("rendering does not depend on the database")
    recorder, _ = smtp
    service = make_service(smtp_feed)
    prefs = Preferences.create(
        max_papers=8, searches=["vision language models safety"], authors=[papers[12].authors[0]]
    )
    service.subscriptions.add_confirmed("reader@example.org", prefs)
    assert service.send(DAY).sent == 1
    html = recorder.arrivals[0].message.get_body(("html",)).get_content()

    OUTPUT.mkdir(exist_ok=True)
    target = OUTPUT / "digest_email.png"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 720, "height": 900}, java_script_enabled=False)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.set_content(html, wait_until="load")
        page.screenshot(path=str(target), full_page=True)
    assert [u for u in requests if not u.startswith(("about:", "data:"))] == []  # nothing external
    assert target.stat().st_size > 10_000
