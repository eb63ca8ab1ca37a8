"""Mail providers read ``List-Unsubscribe`` from the raw message, not through Python's parser:
it must be there literally (not RFC 2047 encoded), on one line, next to the RFC 8058 one-click
header, both in what an SMTP server receives and in the .eml files of the outbox; and the
one-click POST a provider sends to its URL unsubscribes."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.models import ACTIVE, UNSUBSCRIBED
from paperfeed.web.app import create_app
from tests.support.digest import BASE_URL, Recorder, day_papers, populate, sending_to_test_smtp
from tests.support.factories import DAY
from tests.support.fakes import HashingEmbedder

ONE_LINE = re.compile(rb"^List-Unsubscribe: <(https://[^>\s]+)>$")


def _unsubscribe_url(raw: bytes) -> str:
    """The URL of the one List-Unsubscribe header line of a raw message, checking that the
    header is literal, unfolded and advertises one-click."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    lines = head.split(b"\n")
    found = [i for i, line in enumerate(lines) if line.lower().startswith(b"list-unsubscribe:")]
    assert len(found) == 1, head.decode(errors="replace")
    line = lines[found[0]]
    assert b"=?" not in line, line  # not an RFC 2047 encoded word
    following = lines[found[0] + 1] if found[0] + 1 < len(lines) else b""
    assert not following[:1].isspace(), (line, following)  # not folded onto the next line
    match = ONE_LINE.match(line)
    assert match, line
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    return match[1].decode()


def _one_click(feed: PaperFeed, url: str) -> int:
    assert url.startswith(BASE_URL + "/unsubscribe?token=")
    client = TestClient(create_app(feed))
    response = client.post(
        url.removeprefix(BASE_URL),
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return response.status_code


def test_smtp_server_receives_a_literal_one_line_header_whose_one_click_post_unsubscribes(
    settings: Settings, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    with PaperFeed(sending_to_test_smtp(settings, port), embedder=HashingEmbedder()) as feed:
        populate(feed, day_papers(10))
        subscriber = feed.digest.subscriptions.add_confirmed("reader@example.org")
        assert feed.digest.send(DAY).sent == 1
        [arrival] = recorder.arrivals
        url = _unsubscribe_url(arrival.raw)

        assert feed.store.subscriptions.get_subscriber(subscriber.id).status == ACTIVE
        assert _one_click(feed, url) == 200
        assert feed.store.subscriptions.get_subscriber(subscriber.id).status == UNSUBSCRIBED


def test_outbox_files_hold_the_same_literal_header(settings: Settings) -> None:
    with PaperFeed(replace(settings, base_url=BASE_URL), embedder=HashingEmbedder()) as feed:
        populate(feed, day_papers(10))
        subscriber = feed.digest.subscriptions.add_confirmed("reader@example.org")
        assert feed.digest.send(DAY).sent == 1
        [eml] = Path(feed.settings.outbox_dir).glob("*.eml")
        url = _unsubscribe_url(eml.read_bytes())
        assert _one_click(feed, url) == 200
        assert feed.store.subscriptions.get_subscriber(subscriber.id).status == UNSUBSCRIBED
