"""A populated site per test (its page cache starts empty) and a second PaperFeed on the same
database, as another worker or a CLI import would be."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.support.fakes import HashingEmbedder
from tests.support.web import populated_site


@pytest.fixture
def site(tmp_path: Path, database_url: str | None) -> Iterator[PaperFeed]:
    with populated_site(tmp_path / "data", database_url) as feed:
        yield feed


@pytest.fixture
def client(site: PaperFeed) -> Iterator[TestClient]:
    with TestClient(create_app(site)) as test_client:
        yield test_client


def other_process(site: PaperFeed, **changes: object) -> PaperFeed:
    """Another PaperFeed (its own engine and connections) on the site's database."""
    settings = Settings(
        data_dir=site.settings.data_dir,
        database_url=site.settings.database_url,
        secret_key="test-secret",
        arxiv_delay=0.0,
        **changes,  # type: ignore[arg-type]
    )
    return PaperFeed(settings, embedder=HashingEmbedder())
