"""One sync at a time across processes, and a sync killed with SIGKILL mid-import that a re-run
completes without duplicates. The CLI runs in real subprocesses on the real clock."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from itertools import islice

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest import oai_pmh
from paperfeed.models import RUN_FAILED, RUN_OK
from paperfeed.store.sources import INTERRUPTED
from paperfeed.sync.lock import SyncInProgress, sync_lock
from tests.support.arxiv_feeds import ArxivRecord, oai_page, oai_query, rss_items, rss_listing
from tests.support.fakes import ManualClock
from tests.support.paths import DATA
from tests.sync.conftest import Upstream

CS_CRAWL = DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz"
PAGE = 500


def paperfeed(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    """`paperfeed ARGS` in a child process on the store of `settings`, fetching from the
    upstream its URLs name."""
    env = dict(os.environ, PAPERFEED_DATA_DIR=str(settings.data_dir), PAPERFEED_ARXIV_DELAY="0")
    env |= {
        "PAPERFEED_ARXIV_RSS_URL": settings.arxiv_rss_url,
        "PAPERFEED_ARXIV_OAI_URL": settings.arxiv_oai_url,
        "PAPERFEED_HF_ENDPOINT": settings.hf_endpoint,
    }
    if settings.database_url:
        env["PAPERFEED_DATABASE_URL"] = settings.database_url
    command = [sys.executable, "-m", "paperfeed", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_second_sync_waits_for_the_first_then_refuses(
    sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock
) -> None:
    upstream.listing("stat", rss_listing(clock.now.date(), rss_items()[0::2]))
    sync_feed.sync_service.add_source("arxiv", "stat")
    settings = sync_feed.settings
    with sync_lock(sync_feed.store, settings.data_dir, wait=0):
        with pytest.raises(SyncInProgress):
            sync_feed.sync_service.sync(wait=0.3)
        child = paperfeed(settings, "sync", "--no-index")
        out, err = child.communicate(timeout=120)
        assert child.returncode == 1, out
        assert b"another sync is in progress" in err
    assert upstream.requested("/rss/stat") == []  # neither fetched anything
    assert sync_feed.store.sources.runs() == []

    # one that finds the lock taken but freed within its wait goes ahead
    with sync_lock(sync_feed.store, settings.data_dir, wait=0):
        waiting = threading.Thread(target=lambda: results.append(sync_feed.sync()))
        results: list[object] = []
        waiting.start()
        time.sleep(0.5)
        assert not results
    waiting.join(timeout=60)
    assert len(results) == 1 and upstream.requested("/rss/stat")


def crawl_records(count: int, created: dt.date) -> Iterator[ArxivRecord]:
    """Real cs.CV / cs.CL papers of the crawl, as new papers first submitted on `created`."""
    with gzip.open(CS_CRAWL, "rt") as lines:
        for line in islice(lines, count):
            paper = json.loads(line)
            yield ArxivRecord(
                id=paper["id"],
                title=paper["title"],
                abstract=paper["abstract"],
                authors=paper["authors"],
                categories=paper["categories"],
                created=created,
            )


def serve_missed_day(upstream: Upstream, day: dt.date, records: list[ArxivRecord]) -> None:
    """One day of the cs archive over OAI-PMH, PAGE records a page."""
    pages = [records[i : i + PAGE] for i in range(0, len(records), PAGE)]
    for n, page in enumerate(pages):
        token = f"{day}-{n + 1}" if n + 1 < len(pages) else None
        query = (
            oai_query("cs", day)
            if n == 0
            else {"verb": "ListRecords", "resumptionToken": f"{day}-{n}"}
        )
        upstream.server.serve("/oai", oai_page(page, day, token=token), query=query)


def count(feed: PaperFeed, table: str) -> int:
    return feed.stats()[table]


@pytest.mark.slow
def test_kill_9_mid_import_then_rerun_completes_without_duplicates(
    sync_feed: PaperFeed, upstream: Upstream
) -> None:
    today = dt.datetime.now(dt.UTC).date()  # the child runs on the real clock
    days = [today - dt.timedelta(days=n) for n in range(6, 0, -1)]  # a first sync's missed days
    records = list(crawl_records(24_000, created=days[0]))
    per_day = len(records) // len(days)
    for n, day in enumerate(days):
        serve_missed_day(upstream, day, records[n * per_day : (n + 1) * per_day])
    upstream.listing("cs", rss_listing(today, []))
    sync_feed.sync_service.add_source("arxiv", "cs")
    expected = len({r.id for r in records})

    first = paperfeed(sync_feed.settings, "sync", "--no-index")
    deadline = time.monotonic() + 300
    while (
        count(sync_feed, "papers") < 4000 and first.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert first.poll() is None, "the sync finished before it could be killed: serve more"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    killed_at = count(sync_feed, "papers")
    assert 0 < killed_at < expected

    second = paperfeed(sync_feed.settings, "sync", "--no-index", "--json")
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    report = json.loads(out)
    assert report["sources"][0]["status"] == "ok"

    assert count(sync_feed, "papers") == expected
    assert count(sync_feed, "submissions") == expected  # each new paper on the feed once
    assert sync_feed.keyword_backlog() == 0
    runs = sync_feed.store.sources.runs()
    assert [(r.status, r.error) for r in runs] == [(RUN_OK, None), (RUN_FAILED, INTERRUPTED)]
    assert sync_feed.sync_service.sources()[0].cursor == today.isoformat()
    oai = sync_feed.settings.arxiv_oai_url
    keys = [oai_pmh.harvest_key(oai, "arXiv", "cs", day, day) for day in days]
    assert [sync_feed.saved_position(key) for key in keys] == [None] * len(days)
