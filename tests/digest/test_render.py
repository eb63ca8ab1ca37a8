"""Rendering reuses each paper's blocks across digests: reasons stay per subscriber and
escaped, and a paper re-rendered from new data (the next day's upvotes) shows the new data."""

from __future__ import annotations

from dataclasses import replace

from paperfeed.digest.compose import Digest, Pick
from paperfeed.digest.render import Renderer
from paperfeed.digest.tokens import MANAGE
from paperfeed.models import ACTIVE, Paper, Subscriber
from tests.support.digest import BASE_URL, SENDER
from tests.support.factories import DAY, bare_paper


def _digest(subscriber: Subscriber, paper: Paper, reason: str) -> Digest:
    return Digest(subscriber, DAY, DAY, [Pick(paper, "search", reason, 0.9)])


def test_shared_paper_blocks_keep_reasons_and_links_per_subscriber() -> None:
    renderer = Renderer(BASE_URL, SENDER, "secret")
    paper = bare_paper("2405.00001", "Tables & <Chairs>", "An abstract.")
    paper.upvotes = 3
    alice = Subscriber(1, "alice@example.org", ACTIVE)
    bob = Subscriber(2, "bob@example.org", ACTIVE)

    first = renderer.render_digest(_digest(alice, paper, "matches your search 'a<b'"))
    second = renderer.render_digest(_digest(bob, paper, "matches your search 'c&d'"))

    assert "matches your search &#39;a&lt;b&#39;" in first.html
    assert "matches your search 'a<b'" in first.text
    assert "c&amp;d" in second.html and "a&lt;b" not in second.html
    assert "Tables &amp; &lt;Chairs&gt;" in second.html and "* Tables & <Chairs>" in second.text
    for rendered, subscriber in ((first, alice), (second, bob)):
        token = rendered.unsubscribe_url.rpartition("token=")[2]
        assert renderer.tokens.read(MANAGE, token)[0] == subscriber.id
        assert rendered.unsubscribe_url in rendered.html and subscriber.email in rendered.text
    assert first.html.count("▲ 3") == 1 and "3 upvotes" in first.text

    next_day = replace(paper, upvotes=1)  # a new Paper object: rendered again
    again = renderer.render_digest(_digest(alice, next_day, "trending today"))
    assert "▲ 1" in again.html and "1 upvote\n" in again.text and "▲ 3" not in again.html
