"""Fixtures of the network-edge tests: a populated store behind the real web app, cheap password
hashes, and apps with chosen settings (trusted proxies, body limit)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.support.web import module_site  # noqa: F401 (the fixture `site`)


@pytest.fixture(scope="module")
def reader(site: PaperFeed) -> Iterator[TestClient]:
    """A client over the real app on `site`, for tests that only read."""
    with TestClient(create_app(site), raise_server_exceptions=False) as client:
        yield client
