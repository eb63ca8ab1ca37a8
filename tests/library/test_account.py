"""The account page's data: one JSON download with everything, and deleting the account with
everything in it (the password confirms; vote counts stay consistent)."""

from __future__ import annotations

import datetime as dt
import json

from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.models import ACTIVE, Preferences, User
from paperfeed.store.reader_tables import READER_TABLES
from paperfeed.store.schema import DIGEST_TABLES, sessions, users, votes
from tests.library.conftest import count_rows, new_reader, papers_of_day
from tests.support.web import PASSWORD

TABLES = (users, sessions, votes, *READER_TABLES, *DIGEST_TABLES)


def _busy_reader(site: PaperFeed, client: TestClient) -> tuple[User, str, list[str]]:
    """A reader who did a bit of everything: voted, saved, imported, followed, gave feedback
    and subscribed to the digest."""
    user, csrf = new_reader(site, client, "busy")
    papers = papers_of_day(site, dt.date(2025, 3, 20))[:4]
    for paper_id in papers[:2]:
        client.post("/vote", data={"paper_id": paper_id, "csrf_token": csrf})
        client.post("/collections/save", data={"paper_id": paper_id, "csrf_token": csrf})
    client.post(
        "/library/import",
        data={"csrf_token": csrf},
        files={"library": ("l.txt", f"{papers[2]}\nA title nobody has here\n".encode())},
    )
    client.post("/follow", data={"kind": "category", "value": "cs.CV", "csrf_token": csrf})
    client.post(
        "/for-you/feedback", data={"paper_id": papers[3], "kind": "dismissed", "csrf_token": csrf}
    )
    subscriber = site.store.subscriptions.add_subscriber(
        user.email or "", Preferences(), user_id=user.id, status=ACTIVE
    )
    site.store.subscriptions.plan_digests(dt.date(2025, 3, 20), [subscriber.id])
    return user, csrf, papers


def test_export_holds_everything_of_the_account(site: PaperFeed, client: TestClient) -> None:
    user, _, papers = _busy_reader(site, client)
    download = client.get("/account/export")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    data = json.loads(download.content)
    assert data["account"]["username"] == user.username and "password_hash" not in data["account"]
    assert {v["paper_id"] for v in data["votes"]} == set(papers[:2])
    assert {c["name"] for c in data["collections"]} == {"Reading list", "Imported library"}
    saved = {i["paper_id"] for c in data["collections"] for i in c["papers"]}
    assert saved == set(papers[:3])
    assert [(f["kind"], f["value"]) for f in data["follows"]] == [("category", "cs.CV")]
    assert [(f["paper_id"], f["kind"]) for f in data["feedback"]] == [(papers[3], "dismissed")]
    assert [i["title"] for i in data["library"]] == ["A title nobody has here"]
    assert [s["email"] for s in data["subscriptions"]] == [user.email]
    assert len(data["digests"]) == 1 and len(data["sessions"]) == 1
    assert "id_hash" not in data["sessions"][0]
    with TestClient(client.app) as visitor:
        assert visitor.get("/account/export", follow_redirects=False).status_code == 303


def test_deleting_the_account_removes_everything(site: PaperFeed, client: TestClient) -> None:
    user, csrf, papers = _busy_reader(site, client)
    other, _ = new_reader(site, TestClient(client.app), "bystander")
    site.community.vote(papers[0], other)
    upvotes = {p: site.store.papers.get_paper(p).upvotes for p in papers[:2]}
    theirs = count_rows(site, TABLES, user_id=user.id)
    assert theirs["votes"] == 2 and theirs["collections"] == 2 and theirs["feedback"] == 1
    total = count_rows(site, TABLES)

    refused = client.post(
        "/account/delete", data={"password": "wrong password!", "confirm": "1", "csrf_token": csrf}
    )
    assert refused.status_code == 401 and site.community.user(user.id) is not None
    unconfirmed = client.post("/account/delete", data={"password": PASSWORD, "csrf_token": csrf})
    assert unconfirmed.status_code == 400 and site.community.user(user.id) is not None

    done = client.post(
        "/account/delete", data={"password": PASSWORD, "confirm": "1", "csrf_token": csrf}
    )
    assert done.status_code == 200 and "Your account is deleted" in done.text
    assert site.community.user(user.id) is None
    assert set(count_rows(site, TABLES, user_id=user.id).values()) == {0}
    after = count_rows(site, TABLES)
    gone = {name: total[name] - after[name] for name in total}
    assert gone["users"] == 1 and gone["votes"] == 2 and gone["subscribers"] == 1
    assert gone["collection_items"] == 3 and gone["digest_outbox"] == 1
    assert gone["library_interests"] == 1 and gone["follows"] == 1 and gone["feedback"] == 1
    # the upvote counts lose the deleted reader's votes, keep the others'
    for paper_id, count in upvotes.items():
        assert site.store.papers.get_paper(paper_id).upvotes == count - 1
    assert site.store.community.voted_papers(other.id) == {papers[0]}
    assert client.get("/account", follow_redirects=False).status_code == 303  # logged out
