"""Fixtures of the network-edge tests: a populated store behind the real web app, cheap password
hashes, and apps with chosen settings (trusted proxies, body limit)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from paperfeed.community import accounts
from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.support.fakes import HashingEmbedder
from tests.support.web import populate


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """argon2 with its smallest cost: the same code path, without a second per hash."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        yield


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[PaperFeed]:
    """One populated store (papers, submissions, the accounts alice and root) per module."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("site") / "data",
        database_url=module_database_url,
        secret_key="test-secret",
        arxiv_delay=0.0,
    )
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        yield populate(feed)


@pytest.fixture(scope="module")
def reader(site: PaperFeed) -> Iterator[TestClient]:
    """A client over the real app on `site`, for tests that only read."""
    with TestClient(create_app(site), raise_server_exceptions=False) as client:
        yield client
