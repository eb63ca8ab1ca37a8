"""Double opt-in through the web pages, with e-mails written to the outbox directory."""

from __future__ import annotations

import email
import re
from email.policy import default as default_policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.models import ACTIVE, PENDING, UNSUBSCRIBED
from paperfeed.web.app import create_app
from paperfeed.web.deps import CSRF_FIELD


def _outbox(settings: Settings) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=default_policy)  # type: ignore[misc]
        for p in sorted(Path(settings.outbox_dir).glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    ]


def _link(message: email.message.EmailMessage, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    [url] = re.findall(rf"https?://\S+{re.escape(path)}\?token=\S+", text)
    return url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def client(feed: PaperFeed) -> TestClient:
    return TestClient(create_app(feed))


def _subscribe(client: TestClient, address: str, **fields: str) -> int:
    page = client.get("/subscribe")
    csrf = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert csrf, page.text
    data = {
        "email": address,
        "frequency": "daily",
        "max_papers": "5",
        CSRF_FIELD: csrf[1],
        **fields,
    }
    return client.post("/subscribe", data=data).status_code


def test_double_opt_in_preferences_and_unsubscribe(feed: PaperFeed, client: TestClient) -> None:
    assert _subscribe(client, "Reader@Example.org", searches="graph neural networks\nspeech") == 200
    subscriber = feed.store.subscriptions.find_subscriber("reader@example.org")
    assert subscriber is not None and subscriber.status == PENDING
    assert subscriber.prefs.searches == ("graph neural networks", "speech")
    [confirmation] = _outbox(feed.settings)
    assert confirmation["To"] == "reader@example.org"
    assert [r.due for r in feed.digest.send_default()] == [0]  # not before confirming

    confirm = "/" + _link(confirmation, "/subscribe/confirm")
    assert client.get(confirm).status_code == 200  # shows the button
    assert client.post("/subscribe/confirm", data={"token": confirm.split("token=")[1]}).is_success
    assert feed.store.subscriptions.get_subscriber(subscriber.id).status == ACTIVE

    # Subscribing again changes nothing, and only mails the owner a link to manage it.
    assert _subscribe(client, "reader@example.org", searches="something else") == 200
    again = _outbox(feed.settings)[-1]
    assert "already" in again.get_body(("plain",)).get_content()
    assert feed.store.subscriptions.get_subscriber(subscriber.id).prefs.searches == (
        "graph neural networks",
        "speech",
    )

    preferences = "/" + _link(again, "/preferences")
    token = preferences.split("token=", 1)[1]
    assert "graph neural networks" in client.get(preferences).text
    form = {"token": token, "frequency": "weekly", "max_papers": "7", "categories": "cs.CL cs.LG"}
    assert client.post("/preferences", data={**form, "authors": "Ada Lovelace"}).status_code == 200
    prefs = feed.store.subscriptions.get_subscriber(subscriber.id).prefs
    assert (prefs.frequency, prefs.max_papers, prefs.categories) == (
        "weekly",
        7,
        ("cs.CL", "cs.LG"),
    )
    assert prefs.authors == ("Ada Lovelace",) and prefs.searches == ()
    bad = client.post("/preferences", data={**form, "max_papers": "500"})
    assert (
        bad.status_code == 400
        and feed.store.subscriptions.get_subscriber(subscriber.id).prefs.max_papers == 7
    )

    page = client.get(f"/unsubscribe?token={token}")  # GET only asks
    assert page.status_code == 200 and "<form" in page.text
    assert feed.store.subscriptions.get_subscriber(subscriber.id).status == ACTIVE
    assert client.post(f"/unsubscribe?token={token}").status_code == 200
    assert feed.store.subscriptions.get_subscriber(subscriber.id).status == UNSUBSCRIBED
    # An old confirmation link does not bring the address back.
    assert client.get("/" + _link(confirmation, "/subscribe/confirm")).status_code == 400


def test_subscribe_needs_csrf_and_a_real_address(feed: PaperFeed, client: TestClient) -> None:
    client.get("/subscribe")
    assert client.post("/subscribe", data={"email": "a@example.org"}).status_code == 403
    assert _subscribe(client, "not-an-address") == 400
    assert _subscribe(client, "a@example.org\r\nBcc: victim@example.org") == 400
    assert feed.store.subscriptions.list_subscribers() == []
    assert _outbox(feed.settings) == []
