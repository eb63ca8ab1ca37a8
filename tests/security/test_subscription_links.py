"""The links of subscription e-mails, tried as a mail provider and an attacker would: opening
a confirmation link (as mail scanners do) changes nothing, only its page's button confirms;
links expire; a subscriber can invalidate every link sent so far; and one address gets at most
three e-mails on request a day, while the page answers as always."""

from __future__ import annotations

import email
import logging
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.models import ACTIVE, PENDING, UNSUBSCRIBED
from paperfeed.web.app import create_app
from paperfeed.web.limits import Limit, RateLimits
from tests.support.fakes import HashingEmbedder, ManualClock
from tests.support.web import csrf_of

ADDRESS = "reader@example.org"


@pytest.fixture
def feed(settings: Settings, clock: ManualClock) -> Iterator[PaperFeed]:
    with PaperFeed(settings, embedder=HashingEmbedder(), clock=clock) as paperfeed:
        yield paperfeed


def _app_client(feed: PaperFeed) -> TestClient:
    # The per-client limit on sign-ups is not what is tested: whoever floods an address can
    # come from many addresses.
    return TestClient(create_app(feed, rate_limits=RateLimits(signups=Limit(1000, 3600))))


@pytest.fixture
def client(feed: PaperFeed) -> TestClient:
    return _app_client(feed)


def _outbox(feed: PaperFeed) -> list[EmailMessage]:
    files = sorted(Path(feed.settings.outbox_dir).glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [
        email.message_from_bytes(p.read_bytes(), policy=default_policy)  # type: ignore[misc]
        for p in files
    ]


def _link(message: EmailMessage, path: str) -> str:
    """The path and query of the message's link to `path`."""
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [url] = re.findall(rf"https?://\S+{re.escape(path)}\?token=\S+", text)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _token(path: str) -> str:
    return path.split("token=", 1)[1]


def _subscribe(client: TestClient, address: str = ADDRESS) -> tuple[int, str]:
    """Subscribe through the form: the answer's status and page (its CSRF tokens left out)."""
    data = {"email": address, "frequency": "daily", "max_papers": "5"}
    response = client.post("/subscribe", data={**data, "csrf_token": csrf_of(client, "/subscribe")})
    return response.status_code, re.sub(r'name="csrf_token" value="[^"]*"', "", response.text)


def _status(feed: PaperFeed, address: str = ADDRESS) -> str:
    subscriber = feed.store.subscriptions.find_subscriber(address)
    assert subscriber is not None
    return subscriber.status


# -- confirming by a button --------------------------------------------------------------------


def test_opening_the_confirmation_link_only_asks_and_the_button_confirms(
    feed: PaperFeed, client: TestClient
) -> None:
    assert _subscribe(client)[0] == 200
    [confirmation] = _outbox(feed)
    link = _link(confirmation, "/subscribe/confirm")

    for _ in range(2):  # a mail scanner, then the reader, open the link
        page = client.get(link)
        assert page.status_code == 200
        assert "Confirm subscription" in page.text
        form = re.search(
            r'<form action="/subscribe/confirm" method="post">(.*?)</form>', page.text, re.S
        )
        assert form and f'name="token" value="{_token(link)}"' in form[1]
        assert _status(feed) == PENDING

    done = TestClient(create_app(feed)).post("/subscribe/confirm", data={"token": _token(link)})
    assert done.status_code == 200 and "You are subscribed" in done.text
    assert _status(feed) == ACTIVE


def test_an_expired_confirmation_link_is_refused(
    feed: PaperFeed, client: TestClient, clock: ManualClock
) -> None:
    assert _subscribe(client)[0] == 200
    [confirmation] = _outbox(feed)
    link = _link(confirmation, "/subscribe/confirm")
    clock.advance(days=8)  # the link works for 7 days
    assert client.get(link).status_code == 400
    assert client.post("/subscribe/confirm", data={"token": _token(link)}).status_code == 400
    assert _status(feed) == PENDING


def test_a_six_day_old_confirmation_link_still_confirms(
    feed: PaperFeed, client: TestClient, clock: ManualClock
) -> None:
    assert _subscribe(client)[0] == 200
    [confirmation] = _outbox(feed)
    clock.advance(days=6)
    token = _token(_link(confirmation, "/subscribe/confirm"))
    assert client.post("/subscribe/confirm", data={"token": token}).status_code == 200
    assert _status(feed) == ACTIVE


# -- the cap on e-mails sent on request --------------------------------------------------------


def test_a_fourth_confirmation_mail_in_a_day_is_not_sent_and_the_page_does_not_tell(
    feed: PaperFeed, client: TestClient, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    first = _subscribe(client)
    for _ in range(2):
        clock.advance(hours=1)
        assert _subscribe(client) == first
    assert len(_outbox(feed)) == 3

    clock.advance(hours=1)
    with caplog.at_level(logging.WARNING, logger="paperfeed.digest.optin"):
        assert _subscribe(client) == first  # same status, same page
    assert len(_outbox(feed)) == 3
    assert "24 hours already" in caplog.text and ADDRESS not in caplog.text

    clock.advance(hours=21, minutes=1)  # 24 hours after the first one
    assert _subscribe(client) == first
    assert len(_outbox(feed)) == 4


def test_the_cap_is_kept_in_the_store_for_every_worker(
    feed: PaperFeed, settings: Settings, clock: ManualClock
) -> None:
    with PaperFeed(settings, embedder=HashingEmbedder(), clock=clock) as other_worker:
        clients = [_app_client(feed), _app_client(other_worker)]
        for i in range(4):
            assert _subscribe(clients[i % 2])[0] == 200
    assert len(_outbox(feed)) == 3
    assert _subscribe(clients[0], "someone.else@example.org")[0] == 200  # per address
    assert len(_outbox(feed)) == 4


# -- manage links: invalidated on request, expiring ---------------------------------------------


def _manage_link(feed: PaperFeed) -> str:
    """An active subscriber's preferences link, as e-mailed when they subscribe again."""
    feed.digest.subscriptions.add_confirmed(ADDRESS)
    feed.digest.subscriptions.subscribe(ADDRESS)
    return _link(_outbox(feed)[-1], "/preferences")


def test_a_new_link_invalidates_the_old_ones(feed: PaperFeed, client: TestClient) -> None:
    old = _manage_link(feed)
    page = client.get(old)
    assert page.status_code == 200 and 'action="/preferences/new-link"' in page.text

    renewed = client.post("/preferences/new-link", data={"token": _token(old)})
    assert renewed.status_code == 200 and "no longer work" in renewed.text
    message = _outbox(feed)[-1]
    assert message["To"] == ADDRESS and "new" in message["Subject"]
    new = _link(message, "/preferences")
    assert _token(new) != _token(old)

    assert client.get(old).status_code == 400
    assert client.get(f"/unsubscribe?token={_token(old)}").status_code == 400
    assert client.post(f"/unsubscribe?token={_token(old)}").status_code == 400
    assert client.post("/preferences/new-link", data={"token": _token(old)}).status_code == 400
    assert _status(feed) == ACTIVE

    assert client.get(new).status_code == 200
    assert client.post(f"/unsubscribe?token={_token(new)}").status_code == 200
    assert _status(feed) == UNSUBSCRIBED


def test_manage_links_expire_after_90_days(
    feed: PaperFeed, client: TestClient, clock: ManualClock
) -> None:
    link = _manage_link(feed)
    clock.advance(days=89)
    assert client.get(link).status_code == 200
    clock.advance(days=2)
    assert client.get(link).status_code == 400
    assert client.post(f"/unsubscribe?token={_token(link)}").status_code == 400
    assert _status(feed) == ACTIVE
