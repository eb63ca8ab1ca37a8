"""The populated site of tests/support/web.py (per backend) and its web app, without the API
rate limit (the schema tests send hundreds of requests)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from paperfeed.web.limits import RateLimits
from tests.support.web import module_site  # noqa: F401 (the fixture `site`)


@pytest.fixture(scope="module")
def app(site: PaperFeed) -> FastAPI:
    return create_app(site, rate_limits=RateLimits(api=None))
