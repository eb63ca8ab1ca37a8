"""A real SMTP server on 127.0.0.1 (aiosmtpd) with scripted answers, and a feed holding one
day of real papers submitted to the feed (the helpers are in tests/support/digest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.models import Paper
from tests.support.digest import Recorder, day_papers, populate, sending_to_test_smtp
from tests.support.fakes import HashingEmbedder


@pytest.fixture
def smtp_settings(settings: Settings, smtp: tuple[Recorder, int]) -> Settings:
    _, port = smtp
    return sending_to_test_smtp(settings, port)


@pytest.fixture
def papers() -> list[Paper]:
    return day_papers()


@pytest.fixture
def feed(settings: Settings) -> Iterator[PaperFeed]:
    """A PaperFeed whose search (digest similarity) embeds with the fast test embedder."""
    with PaperFeed(settings, embedder=HashingEmbedder()) as paperfeed:
        yield paperfeed


@pytest.fixture
def smtp_feed(smtp_settings: Settings, papers: list[Paper]) -> Iterator[PaperFeed]:
    with PaperFeed(smtp_settings, embedder=HashingEmbedder()) as feed:
        populate(feed, papers)
        yield feed
