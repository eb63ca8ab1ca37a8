"""Personal bits of cached pages stay with their reader: votes, names and CSRF tokens."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.support.web import PASSWORD, log_in

DAY_PAGE = "/?date=2024-01-10"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def tokens(html: str) -> set[str]:
    return set(_TOKEN.findall(html))


def voted(html: str) -> set[str]:
    """Papers whose vote button says the reader upvoted them."""
    return set(re.findall(r'value="([^"]+)">\s*<input type="hidden" name="next"[^>]*>\s*'
                          r'<input type="hidden" name="action" value="down">', html))  # fmt: skip


def vote(client: TestClient, token: str, paper_id: str) -> int:
    form = {"paper_id": paper_id, "action": "up", "next": DAY_PAGE, "csrf_token": token}
    return client.post("/vote", data=form, follow_redirects=False).status_code


def test_readers_never_see_each_others_votes_names_or_tokens(site: PaperFeed) -> None:
    site.community.create_account("bob", PASSWORD)
    app = create_app(site)
    with TestClient(app) as alice, TestClient(app) as bob, TestClient(app) as visitor:
        alice_token = log_in(alice, "alice")
        assert vote(alice, alice_token, "2401.00001") == 303
        bob_token = log_in(bob, "bob")
        for path in (DAY_PAGE, "/papers/2401.00001", "/search?q=attention"):
            alice_page, bob_page = alice.get(path).text, bob.get(path).text
            visitor_page = visitor.get(path).text
            assert voted(alice_page) == {"2401.00001"}, path
            assert voted(bob_page) == voted(visitor_page) == set(), path
            assert tokens(alice_page) == {alice_token}, path
            assert tokens(bob_page) == {bob_token}, path
            assert 'class="who">bob' in bob_page and "alice" not in bob_page, path
            assert 'class="who">alice' in alice_page and "bob" not in alice_page, path
            assert "Log out" not in visitor_page and 'class="who"' not in visitor_page, path
            assert tokens(visitor_page).isdisjoint({alice_token, bob_token}), path
        assert vote(bob, bob_token, "2401.00001") == 303  # bob's token is really bob's
        assert voted(bob.get(DAY_PAGE).text) == {"2401.00001"}
        assert voted(alice.get(DAY_PAGE).text) == {"2401.00001"}


def test_each_visitor_gets_a_working_token_of_their_own(site: PaperFeed) -> None:
    app = create_app(site)
    with TestClient(app) as first, TestClient(app) as second:
        (first_token,) = tokens(first.get(DAY_PAGE).text)
        (second_token,) = tokens(second.get(DAY_PAGE).text)
        assert first_token != second_token
        assert tokens(first.get(DAY_PAGE).text) == {first_token}  # the same one again
        assert vote(first, second_token, "2401.00001") == 403
        assert vote(first, first_token, "2401.00001") == 303  # to the log-in page


def test_administrators_are_not_served_from_the_cache(site: PaperFeed) -> None:
    app = create_app(site)
    with TestClient(app) as admin, TestClient(app) as visitor, TestClient(app) as alice:
        admin_token = log_in(admin, "root")
        log_in(alice, "alice")
        assert visitor.get("/papers/2401.00002").status_code == 200  # cached for visitors
        form = {
            "paper_id": "2401.00002",
            "target": "paper",
            "hidden": "1",
            "next": "/",
            "csrf_token": admin_token,
        }
        assert admin.post("/admin/hide", data=form, follow_redirects=False).status_code == 303
        page = admin.get("/papers/2401.00002")
        assert page.status_code == 200 and "Unhide paper" in page.text
        assert visitor.get("/papers/2401.00002").status_code == 404
        assert alice.get("/papers/2401.00002").status_code == 404
        assert "Moderation" not in visitor.get("/papers/2401.00001").text
        assert "Moderation" in admin.get("/papers/2401.00001").text
