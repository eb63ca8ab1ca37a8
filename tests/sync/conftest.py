"""A PaperFeed whose followed sources are a local arXiv and Hugging Face (RecordedServer) that
replay the recorded answers in the shared data for the days the test names, on a clock the
test moves."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.http import PoliteClient
from tests.support.arxiv_feeds import oai_no_records
from tests.support.fakes import HashingEmbedder, ManualClock
from tests.support.paths import DATA
from tests.support.recorded_server import RecordedServer, Reply

HF_RAW = DATA / "hf_daily_papers" / "raw"
JSON = "application/json"


class Upstream:
    """arXiv (RSS, OAI-PMH, API) and Hugging Face on one local server."""

    def __init__(self, server: RecordedServer) -> None:
        self.server = server
        server.serve("/oai", oai_no_records())  # a day nothing was harvested for
        server.serve("/api/daily_papers", Reply(body="[]", content_type=JSON))

    def settings(self, settings: Settings) -> Settings:
        url = self.server.url
        return settings.with_overrides(
            arxiv_rss_url=f"{url}/rss/",
            arxiv_oai_url=f"{url}/oai",
            arxiv_api_url=f"{url}/api/query",
            hf_endpoint=url,
        )

    def listing(self, category: str, *replies: Reply | bytes | str) -> None:
        self.server.replace(f"/rss/{category}", *replies)

    def hf_day(self, day: dt.date, recorded: str) -> set[str]:
        """Serve the recorded Hugging Face day `recorded` (a file name in raw/) as `day`;
        returns its paper ids."""
        items = json.loads((HF_RAW / recorded).read_text())
        for item in items:
            item["paper"]["submittedOnDailyAt"] = f"{day}T08:00:00.000Z"
        self.server.replace(
            "/api/daily_papers",
            Reply(body=json.dumps(items), content_type=JSON),
            query={"date": day.isoformat()},
        )
        return {item["paper"]["id"] for item in items}

    def requested(self, path: str) -> list[dict[str, str]]:
        return [r.params for r in self.server.requests if r.path == path]


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with RecordedServer() as server:
        yield Upstream(server)


CLIENT_TIMEOUT = 1.0  # the local upstream answers at once, unless a test makes it slow


def quick_client() -> PoliteClient:
    """No delay between requests, no retries: a failing source fails at once."""
    return PoliteClient(delay=0.0, max_retries=0, backoff=0.0, timeout=CLIENT_TIMEOUT)


@pytest.fixture
def sync_feed(
    settings: Settings, upstream: Upstream, clock: ManualClock, tmp_path: Path
) -> Iterator[PaperFeed]:
    """A PaperFeed following nothing yet, fetching from `upstream`, on `clock`."""
    client = quick_client()
    with PaperFeed(
        upstream.settings(settings),
        embedder=HashingEmbedder(),
        clock=clock,
        sync_client=client,
    ) as feed:
        yield feed
    client.close()
