"""A feed with the test embedder and a fixed clock, for the ranker, CLI and API tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from tests.support.fakes import HashingEmbedder

TODAY = dt.date(2026, 3, 13)


@pytest.fixture
def feed(settings: Settings) -> Iterator[PaperFeed]:
    now = dt.datetime.combine(TODAY, dt.time(18), dt.UTC)
    with PaperFeed(settings, embedder=HashingEmbedder(), clock=lambda: now) as paperfeed:
        yield paperfeed
