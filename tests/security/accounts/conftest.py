"""A populated site (tests/support/web.py: alice and root) on each store backend, whose clock the
tests move, with cheap argon2 hashes, and TestClients over it from chosen client addresses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.support.fakes import HashingEmbedder, ManualClock, cheap_password_hasher
from tests.support.web import populate

IDLE_HOURS = 2.0


@pytest.fixture
def feed(settings: Settings, clock: ManualClock) -> Iterator[PaperFeed]:
    """A populated PaperFeed on a fresh store of the test's backend: sessions end after
    IDLE_HOURS without use."""
    settings = dataclasses.replace(settings, session_idle_hours=IDLE_HOURS)
    with PaperFeed(
        settings, embedder=HashingEmbedder(), clock=clock, password_hasher=cheap_password_hasher()
    ) as paperfeed:
        yield populate(paperfeed)


@pytest.fixture
def browser(feed: PaperFeed) -> Iterator[Callable[..., TestClient]]:
    """Opens TestClients (browsers) on one app over `feed`: ``browser(address="10.0.0.7")``."""
    app = create_app(feed)
    opened: list[TestClient] = []

    def open_browser(address: str = "192.0.2.1") -> TestClient:
        client = TestClient(app, raise_server_exceptions=False, client=(address, 50000))
        opened.append(client.__enter__())
        return client

    yield open_browser
    for client in opened:
        client.__exit__(None, None, None)
