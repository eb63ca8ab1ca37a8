"""A small store with tricky titles, two accounts and a TestClient over the web app (the data
and the log-in helpers are in tests/support/web.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from paperfeed.web.limits import Limit, RateLimits
from tests.support.fakes import HashingEmbedder
from tests.support.web import populate, populated_site


@pytest.fixture
def feed(settings: Settings) -> Iterator[PaperFeed]:
    """A PaperFeed on a fresh store that searches with a fast hashing embedder instead of the
    real model."""
    with PaperFeed(settings, embedder=HashingEmbedder()) as paperfeed:
        yield paperfeed


@pytest.fixture
def web_feed(feed: PaperFeed) -> PaperFeed:
    """A fresh populated store, for tests that change it."""
    return populate(feed)


@pytest.fixture(scope="module")
def reader(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[TestClient]:
    """One client over one populated store for the tests of a module that only read."""
    data_dir = tmp_path_factory.mktemp("site") / "data"
    with (
        populated_site(data_dir, module_database_url) as feed,
        TestClient(create_app(feed), raise_server_exceptions=False) as test_client,
    ):
        yield test_client


@pytest.fixture
def limits() -> RateLimits:
    return RateLimits(votes=Limit(5, 60), submissions=Limit(3, 3600), logins=Limit(6, 300))


@pytest.fixture
def client(web_feed: PaperFeed, limits: RateLimits) -> Iterator[TestClient]:
    app = create_app(web_feed, rate_limits=limits)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
