"""Server-side log-in sessions: log-out ends a session wherever its cookie was copied, "log out
everywhere" ends them all, unused sessions end after the idle time and every session 30 days
after log-in, and each log-in gets a new session id."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.web.login_cookie import LOGIN_COOKIE
from tests.support.fakes import ManualClock
from tests.support.web import csrf_of, log_in

Browser = Callable[..., TestClient]
COOKIE_DOMAIN = "testserver.local"  # where httpx keeps the cookies of http://testserver
PAPER = "2401.00001"  # 5 imported upvotes


def signed_in_as(client: TestClient) -> str | None:
    match = re.search(r'<span class="who">([^<\s]+)', client.get("/").text)
    return match.group(1) if match else None


def with_cookie(client: TestClient, token: str) -> TestClient:
    client.cookies.set(LOGIN_COOKIE, token, domain=COOKIE_DOMAIN)
    return client


def vote(client: TestClient, token: str, action: str = "up") -> int:
    data = {"paper_id": PAPER, "action": action, "next": "/", "csrf_token": token}
    return client.post("/vote", data=data, follow_redirects=False).status_code


def upvotes(feed: PaperFeed) -> int:
    return feed.store.papers.get_paper(PAPER).upvotes


def test_a_copied_cookie_stops_working_at_log_out(feed: PaperFeed, browser: Browser) -> None:
    mine = browser()
    token = log_in(mine, "alice")
    session_id = mine.cookies[LOGIN_COOKIE]
    thief = with_cookie(browser("198.51.100.9"), session_id)
    assert signed_in_as(thief) == "alice"
    stolen_csrf = csrf_of(thief, "/")
    assert vote(thief, stolen_csrf) == 303 and upvotes(feed) == 6

    logout = mine.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert logout.status_code == 303 and signed_in_as(mine) is None
    assert feed.community.session(session_id) is None
    # the thief keeps sending the copied cookie: it no longer signs anyone in
    assert signed_in_as(with_cookie(thief, session_id)) is None
    assert vote(with_cookie(thief, session_id), stolen_csrf, action="down") != 303
    assert upvotes(feed) == 6


def test_log_out_everywhere_ends_every_session_of_the_account(
    feed: PaperFeed, browser: Browser
) -> None:
    laptop, phone, admin = browser(), browser("203.0.113.5"), browser("203.0.113.6")
    token = log_in(laptop, "alice")
    log_in(phone, "alice")
    log_in(admin, "root")
    page = laptop.get("/account")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "alice" in page.text and "alice@example.org" in page.text
    assert "2 browsers or devices" in page.text

    refused = laptop.post("/account/logout-everywhere", data={"csrf_token": "forged"})
    assert refused.status_code == 403 and signed_in_as(phone) == "alice"
    done = laptop.post(
        "/account/logout-everywhere", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert signed_in_as(phone) is None and signed_in_as(laptop) is None
    assert signed_in_as(admin) == "root"  # other accounts keep their sessions


def test_the_account_page_asks_visitors_to_log_in(browser: Browser) -> None:
    response = browser().get("/account", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/account"


def test_an_unused_session_ends_after_the_idle_time(
    feed: PaperFeed, browser: Browser, clock: ManualClock
) -> None:
    client = browser()
    log_in(client, "alice")
    session_id = client.cookies[LOGIN_COOKIE]
    for _ in range(3):  # used within the idle time, again and again: still signed in
        clock.advance(hours=feed.settings.session_idle_hours * 0.75)
        assert signed_in_as(client) == "alice"
    clock.advance(hours=feed.settings.session_idle_hours, seconds=1)
    assert signed_in_as(client) is None
    assert signed_in_as(with_cookie(browser(), session_id)) is None


def test_every_session_ends_30_days_after_log_in(feed: PaperFeed, clock: ManualClock) -> None:
    alice = feed.store.community.get_user_by_username("alice")
    token, session = feed.community.start_session(alice)
    while clock.now + dt.timedelta(hours=feed.settings.session_idle_hours) < session.expires_at:
        clock.advance(hours=feed.settings.session_idle_hours * 0.9)
        assert feed.community.session(token) is not None  # in use all along
    clock.now = session.expires_at
    assert feed.community.session(token) is None
    assert (session.expires_at - session.created_at).days == 30


def test_each_log_in_gets_a_new_session_id(feed: PaperFeed, browser: Browser) -> None:
    planted = "chosen-by-an-attacker"
    victim = with_cookie(browser(), planted)
    token = csrf_of(victim)
    response = victim.post(
        "/login",
        data={"username": "alice", "password": "correct horse battery", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    set_cookie = response.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    first = victim.cookies[LOGIN_COOKIE]
    assert first != planted and len(first) >= 40
    assert signed_in_as(with_cookie(browser(), planted)) is None
    assert feed.store.sessions.get_session(first) is None  # the store keeps only a hash

    log_in(victim, "root")  # a second log-in in the same browser: another id, the first ends
    second = victim.cookies[LOGIN_COOKIE]
    assert second != first and signed_in_as(victim) == "root"
    assert feed.community.session(first) is None
