"""The job queue on a throwaway PostgreSQL: real `paperfeed worker` subprocesses, a real SMTP
server (aiosmtpd) and a feed holding a day of real papers and its subscribers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.models import Preferences
from paperfeed.store.postgres import driver_url
from tests.support.digest import Recorder, day_papers, populate, sending_to_test_smtp
from tests.support.fakes import HashingEmbedder
from tests.support.paths import REPO

HEARTBEAT = "0.5"
STALLED_AFTER = "2"  # a killed worker's job runs again within ~3 s


@pytest.fixture
def queue_settings(settings: Settings, smtp: tuple[Recorder, int]) -> Settings:
    if settings.database_url is None:
        pytest.skip("the job queue needs PostgreSQL")
    _, port = smtp
    return sending_to_test_smtp(settings, port)


@pytest.fixture
def queue_feed(queue_settings: Settings) -> Iterator[PaperFeed]:
    with PaperFeed(queue_settings, embedder=HashingEmbedder()) as feed:
        yield feed


def subscribe(feed: PaperFeed, count: int) -> list[str]:
    """A day of real papers on the feed and `count` confirmed daily subscribers."""
    populate(feed, day_papers(30))
    addresses = [f"reader{i}@example.org" for i in range(count)]
    for address in addresses:
        feed.digest.subscriptions.add_confirmed(address, Preferences.create(max_papers=5))
    return addresses


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    assert settings.smtp.host is not None and settings.database_url is not None
    return {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "PAPERFEED_DATA_DIR": str(settings.data_dir),
        "PAPERFEED_DATABASE_URL": settings.database_url,
        "PAPERFEED_SECRET_KEY": settings.secret_key or "",
        "PAPERFEED_BASE_URL": settings.base_url,
        "PAPERFEED_SMTP_HOST": settings.smtp.host,
        "PAPERFEED_SMTP_PORT": str(settings.smtp.port),
        "PAPERFEED_SMTP_SECURITY": "none",
        "PAPERFEED_SMTP_SENDER": settings.smtp.sender,
        "PAPERFEED_DIGEST_RETRY_DELAY": "0.01",
        **extra,
    }


StartWorker = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start_worker(queue_settings: Settings, tmp_path: Path) -> Iterator[StartWorker]:
    """Starts `paperfeed worker` subprocesses (stderr to a log file each); kills the ones left."""
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, **env: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        command = [
            sys.executable, "-m", "paperfeed", "-v", "worker", "--name", name,
            "--heartbeat", HEARTBEAT, "--stalled-after", STALLED_AFTER,
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=worker_env(queue_settings, **env), stdout=log, stderr=log
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(30)


@pytest.fixture
def queue_db(queue_settings: Settings) -> Iterator[sa.Engine]:
    """An engine on the test's database, to read procrastinate's tables."""
    assert queue_settings.database_url is not None
    engine = sa.create_engine(driver_url(queue_settings.database_url))
    yield engine
    engine.dispose()
