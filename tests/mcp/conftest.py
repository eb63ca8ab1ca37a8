"""The populated site of tests/support/web.py per backend, and its web app served by uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from paperfeed.web.limits import RateLimits
from tests.support.net import uvicorn_serving
from tests.support.web import module_site  # noqa: F401 (the fixture `site`)


@pytest.fixture(scope="module")
def server_url(site: PaperFeed) -> Iterator[str]:
    """The whole web app (middleware, limits, lifespan) on a free port."""
    with uvicorn_serving(create_app(site, rate_limits=RateLimits(api=None))) as url:
        yield url
