"""Shared fixtures: real stores on temporary files, paths to the shared data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERFEED_SHARED_DIR", REPO.parent / "shared"))
DATA = SHARED / "data"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh deployment in a temporary data dir."""
    return Settings(data_dir=tmp_path / "data", secret_key="test-secret", arxiv_delay=0.0)


@pytest.fixture
def feed(settings: Settings) -> Iterator[PaperFeed]:
    """A PaperFeed on a new SQLite file."""
    with PaperFeed(settings) as paperfeed:
        yield paperfeed
