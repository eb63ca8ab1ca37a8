"""The known feed of tests/support/api.py in a fresh store, and a client of the web app over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from tests.support.api import KNOWN, make_app


@pytest.fixture
def loaded(feed: PaperFeed) -> PaperFeed:
    feed.ingest(iter(KNOWN))
    feed.store.papers.set_paper_hidden("2405.00009", True)  # withdrawn by a moderator
    return feed


@pytest.fixture
def client(loaded: PaperFeed) -> Iterator[TestClient]:
    with TestClient(make_app(loaded)) as test_client:
        yield test_client
