"""A hidden submission does not show who submitted the paper on its page, except to
administrators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.support.fakes import HashingEmbedder
from tests.support.web import log_in, populate

PAPER = "2401.00001"  # submitted by "curator" (tests/support/web.py)


@pytest.fixture
def feed(settings: Settings) -> Iterator[PaperFeed]:
    with PaperFeed(settings, embedder=HashingEmbedder()) as paperfeed:
        yield populate(paperfeed)


def test_a_hidden_submissions_submitter_is_shown_to_admins_only(feed: PaperFeed) -> None:
    reader = TestClient(create_app(feed))
    assert "curator" in reader.get(f"/papers/{PAPER}").text  # visible while not hidden

    feed.community.set_hidden(
        feed.store.community.get_user_by_username("root"), PAPER, target="submission"
    )
    page = reader.get(f"/papers/{PAPER}")
    assert page.status_code == 200 and "curator" not in page.text  # the paper stays readable

    alice = TestClient(create_app(feed))
    log_in(alice, "alice")
    assert "curator" not in alice.get(f"/papers/{PAPER}").text

    admin = TestClient(create_app(feed))
    log_in(admin, "root")
    page = admin.get(f"/papers/{PAPER}")
    assert "curator" in page.text and "Its submission is hidden" in page.text
