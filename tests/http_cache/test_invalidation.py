"""A cached page, API listing or feed changes with what it shows: votes, submissions, hiding and
imports, from this process at once and from another one within the check interval (and the
render behind the one answer that may still show the page as it was)."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.models import User
from paperfeed.web import page_cache
from paperfeed.web.app import create_app
from paperfeed.web.page_cache import PageCacheMiddleware
from tests.http_cache.conftest import other_process
from tests.support.factories import bare_paper, make_submission
from tests.support.web import log_in

DAY_PAGE = "/?date=2024-01-10"


def upvotes_on(html: str, paper_id: str) -> int:
    """The count on `paper_id`'s vote button."""
    found = re.search(
        rf'name="paper_id" value="{re.escape(paper_id)}">.*?<span class="count">(\d+)</span>',
        html,
        re.DOTALL,
    )
    assert found, f"no vote button for {paper_id}"
    return int(found[1])


def api_upvotes(client: TestClient, paper_id: str) -> int:
    items = client.get("/api/daily_papers", params={"date": "2024-01-10"}).json()
    return next(item["paper"]["upvotes"] for item in items if item["paper"]["id"] == paper_id)


def user(feed: PaperFeed, name: str) -> User:
    found = feed.store.community.get_user_by_username(name)
    assert found is not None
    return found


def cached_tag(client: TestClient, path: str) -> str:
    """The ETag of `path`, the same twice in a row: the answer is kept."""
    first, second = client.get(path), client.get(path)
    assert first.headers["etag"] == second.headers["etag"]
    return first.headers["etag"]


def test_a_vote_shows_on_the_next_request(client: TestClient, site: PaperFeed) -> None:
    tag = cached_tag(client, DAY_PAGE)
    assert upvotes_on(client.get(DAY_PAGE).text, "2401.00001") == 5
    assert api_upvotes(client, "2401.00001") == 5
    token = log_in(client, "alice")
    form = {"paper_id": "2401.00001", "action": "up", "next": DAY_PAGE, "csrf_token": token}
    assert client.post("/vote", data=form, follow_redirects=False).status_code == 303
    assert upvotes_on(client.get(DAY_PAGE).text, "2401.00001") == 6
    assert client.get(DAY_PAGE).headers["etag"] != tag
    assert api_upvotes(client, "2401.00001") == 6
    site.community.vote("2401.00002", user(site, "root"))  # not through the web
    with TestClient(create_app(site)) as visitor:  # a visitor's render of the same page
        assert upvotes_on(visitor.get(DAY_PAGE).text, "2401.00002") == 3
    assert upvotes_on(client.get(DAY_PAGE).text, "2401.00002") == 3


def test_a_submission_shows_on_the_next_request(client: TestClient, site: PaperFeed) -> None:
    tag = cached_tag(client, "/")
    assert "2401.00009" not in client.get("/").text
    assert "2401.00009" not in client.get("/api/daily_papers").text
    site.community.submit("2401.00009", user(site, "alice"))  # today's feed: now the latest day
    assert "/papers/2401.00009" in client.get("/").text
    assert client.get("/").headers["etag"] != tag
    assert "2401.00009" in client.get("/api/daily_papers").text


def test_hiding_a_paper_takes_it_off_cached_pages(client: TestClient, site: PaperFeed) -> None:
    cached_tag(client, "/papers/2401.00001")
    assert "/papers/2401.00001" in client.get(DAY_PAGE).text
    assert "2401.00001" in client.get("/feeds/daily.atom?date=2024-01-10").text
    site.community.set_hidden(user(site, "root"), "2401.00001")
    assert "/papers/2401.00001" not in client.get(DAY_PAGE).text
    assert client.get("/papers/2401.00001").status_code == 404
    assert "2401.00001" not in client.get("/feeds/daily.atom?date=2024-01-10").text


def test_an_import_shows_on_lists_and_searches(client: TestClient, site: PaperFeed) -> None:
    tag = cached_tag(client, "/search?q=protein")
    assert "2401.00077" not in client.get(DAY_PAGE).text
    assert "2401.00077" not in client.get("/search?q=protein").text
    paper = bare_paper("2401.00077", "Protein Folding Feeds", "Protein structure, every day.")
    submission = make_submission("2401.00077", dt.date(2024, 1, 10), imported_upvotes=9)
    site.ingest(iter([Record(paper, submission)]))
    assert upvotes_on(client.get(DAY_PAGE).text, "2401.00077") == 9
    assert "/papers/2401.00077" in client.get("/search?q=protein").text
    assert client.get("/search?q=protein").headers["etag"] != tag


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = time.monotonic() + 100  # past this process's own commits

    def __call__(self) -> float:
        return self.now


def test_another_process_change_shows_within_the_check_interval(site: PaperFeed) -> None:
    clock = FakeMonotonic()
    site.store.content.monotonic = clock
    assert site.settings.page_cache_check_seconds == 1.0
    with TestClient(create_app(site)) as client, other_process(site) as worker:
        assert upvotes_on(client.get(DAY_PAGE).text, "2401.00001") == 5
        worker.community.vote("2401.00001", user(worker, "alice"))  # another worker's
        clock.now += 0.5
        assert upvotes_on(client.get(DAY_PAGE).text, "2401.00001") == 5  # served from cache
        clock.now += 0.6  # past the check interval: the change is seen
        # The page answered as current just now answers once more, rendered again behind it.
        assert upvotes_on(client.get(DAY_PAGE).text, "2401.00001") == 5
        assert shows_soon(lambda: upvotes_on(client.get(DAY_PAGE).text, "2401.00001") == 6)
        assert shows_soon(lambda: api_upvotes(client, "2401.00001") == 6)


def test_a_page_not_answered_lately_is_rendered_before_answering(
    site: PaperFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeMonotonic()
    site.store.content.monotonic = clock
    monkeypatch.setattr(page_cache, "STALE_SECONDS", 0.0)  # every entry was current too long ago
    with TestClient(create_app(site)) as client, other_process(site) as worker:
        assert upvotes_on(client.get(DAY_PAGE).text, "2401.00001") == 5
        worker.community.vote("2401.00001", user(worker, "alice"))
        clock.now += 1.1
        assert upvotes_on(client.get(DAY_PAGE).text, "2401.00001") == 6


def test_an_answer_given_while_rendering_again_counts_against_the_api_limit(
    site: PaperFeed,
) -> None:
    clock = FakeMonotonic()
    with other_process(site, api_requests_per_minute=2) as limited:
        limited.store.content.monotonic = clock
        with TestClient(create_app(limited)) as client:
            first = client.get("/api/daily_papers", params={"date": "2024-01-10"})
            site.community.vote("2401.00001", user(site, "alice"))  # another process's
            clock.now += 1.1
            later = [
                client.get("/api/daily_papers", params={"date": "2024-01-10"}) for _ in range(2)
            ]
    assert [first.status_code, *(answer.status_code for answer in later)] == [200, 200, 429]


def test_a_page_past_its_age_answers_once_more_while_it_is_rendered_again(
    site: PaperFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered_behind: list[str] = []
    render_behind = PageCacheMiddleware._render_behind

    def recorded(self: PageCacheMiddleware, key: page_cache.Key, *rest: Any) -> None:
        rendered_behind.append(key[1])
        render_behind(self, key, *rest)

    monkeypatch.setattr(PageCacheMiddleware, "_render_behind", recorded)
    with other_process(site, page_cache_seconds=0.3) as feed:
        feed.store.content.monotonic = FakeMonotonic()  # past this process's own commits
        with TestClient(create_app(feed)) as client:
            first = client.get(DAY_PAGE)
            assert client.get(DAY_PAGE).headers["etag"] == first.headers["etag"]  # kept
            time.sleep(0.35)
            aged = client.get(DAY_PAGE)
    assert rendered_behind == ["/"]  # not rendered while this reader waited
    assert aged.headers["etag"] == first.headers["etag"]


def shows_soon(shown: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Whether `shown()` holds within `seconds` (asked again every 10 ms)."""
    give_up = time.monotonic() + seconds
    while not shown():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.01)
    return True


def test_the_version_moves_in_the_writers_transaction(site: PaperFeed) -> None:
    with other_process(site) as worker:
        before = worker.store.content.read().number
        site.community.vote("2401.00001", user(site, "alice"))
        after = worker.store.content.read()
        assert after.number > before
        assert abs(after.changed_at - time.time()) < 600
