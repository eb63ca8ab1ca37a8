"""Cache hits answered in front of the framework (web/page_front.py) are the answers the stack
gives: the same body, validators and headers, the security headers, the reader's own token, the
API limit; a session cookie the server did not sign is not trusted there either."""

from __future__ import annotations

import json
import time
from base64 import b64encode

import itsdangerous
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from paperfeed.web.deps import SESSION_COOKIE
from paperfeed.web.headers import SECURITY_HEADERS
from paperfeed.web.page_front import VisitorTokens
from tests.http_cache.conftest import other_process
from tests.support.web import log_in

DAY_PAGE = "/?date=2024-01-10"
SAME_HEADERS = ("content-type", "content-encoding", "etag", "last-modified", "cache-control")


def assert_secured(response: Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, dict(response.headers))


def vary(response: Response) -> set[str]:
    return {part.strip() for part in response.headers["vary"].split(",")}


@pytest.mark.parametrize(
    "path",
    [DAY_PAGE, "/papers/2401.00001", "/search?q=attention", "/api/daily_papers",
     "/feeds/daily.atom", "/papers/2401.00001.md"],
)  # fmt: skip
def test_a_returning_visitor_gets_the_answer_the_stack_gave(client: TestClient, path: str) -> None:
    rendered = client.get(path)  # a first visit: the stack renders (and makes a CSRF token)
    again = client.get(path)  # the cookie holds the token now: answered in front
    assert rendered.status_code == again.status_code == 200
    assert again.content == rendered.content
    for name in SAME_HEADERS:
        assert again.headers.get(name) == rendered.headers.get(name), name
    assert vary(again) == vary(rendered)
    assert "set-cookie" not in again.headers
    assert_secured(again)
    later = client.get(path, headers={"If-None-Match": again.headers["etag"]})
    assert later.status_code == 304 and later.content == b""
    assert_secured(later)


def upvotes(client: TestClient, paper_id: str) -> int:
    items = client.get("/api/daily_papers", params={"date": "2024-01-10"}).json()
    return next(item["paper"]["upvotes"] for item in items if item["paper"]["id"] == paper_id)


def test_a_returning_visitor_sees_a_vote_on_the_next_request(
    client: TestClient, site: PaperFeed
) -> None:
    client.get(DAY_PAGE)
    tag = client.get(DAY_PAGE).headers["etag"]
    assert upvotes(client, "2401.00001") == upvotes(client, "2401.00001") == 5
    with TestClient(create_app(site)) as alice:
        form = {"paper_id": "2401.00001", "action": "up", "next": DAY_PAGE}
        form["csrf_token"] = log_in(alice, "alice")
        assert alice.post("/vote", data=form, follow_redirects=False).status_code == 303
    assert client.get(DAY_PAGE).headers["etag"] != tag
    assert upvotes(client, "2401.00001") == 6


def test_hits_read_another_process_change_in_the_background(site: PaperFeed) -> None:
    now = [time.monotonic() + 100]  # past this process's own commits
    site.content_versions.monotonic = lambda: now[0]
    assert site.settings.page_cache_check_seconds == 1.0
    with TestClient(create_app(site)) as client, other_process(site) as worker:
        assert upvotes(client, "2401.00001") == upvotes(client, "2401.00001") == 5
        alice = worker.store.community.get_user_by_username("alice")
        assert alice is not None
        worker.store.community.add_vote("2401.00001", alice.id)
        now[0] += 0.6  # past half the check interval: this hit starts a read, answers as known
        assert upvotes(client, "2401.00001") == 5
        deadline = time.monotonic() + 5
        while upvotes(client, "2401.00001") == 5 and time.monotonic() < deadline:
            time.sleep(0.01)  # the read lands; the interval has not passed on the cache's clock
        assert upvotes(client, "2401.00001") == 6


def test_a_session_cookie_signed_elsewhere_is_not_trusted(client: TestClient) -> None:
    client.get(DAY_PAGE)  # cached for visitors
    data = b64encode(json.dumps({"csrf": "chosen-by-the-attacker"}).encode())
    forged = itsdangerous.TimestampSigner("another key").sign(data).decode()
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, forged)
    page = client.get(DAY_PAGE)
    assert page.status_code == 200
    assert "chosen-by-the-attacker" not in page.text
    assert SESSION_COOKIE in page.headers["set-cookie"]  # a new token of its own


def test_a_remembered_visitor_cookie_expires_with_its_age_limit() -> None:
    now = [1_700_000_000.0]
    tokens = VisitorTokens("key", max_age=60, clock=lambda: now[0])
    cookie = tokens.signer.sign(b64encode(json.dumps({"csrf": "token"}).encode())).decode()
    assert tokens.csrf(cookie) == "token"
    now[0] += 60
    assert tokens.csrf(cookie) == "token"  # remembered
    now[0] += 1
    assert tokens.csrf(cookie) is None


def test_the_api_limit_refuses_in_front_with_the_security_headers(site: PaperFeed) -> None:
    with (
        other_process(site, api_requests_per_minute=2) as limited,
        TestClient(create_app(limited)) as client,
    ):
        answers = [client.get("/api/daily_papers") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert "error" in answers[2].json()
    assert_secured(answers[2])


def test_cached_markdown_counts_against_the_api_limit(site: PaperFeed) -> None:
    with (
        other_process(site, api_requests_per_minute=3) as limited,
        TestClient(create_app(limited)) as client,
    ):
        statuses = [client.get("/papers/2401.00002.md").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
