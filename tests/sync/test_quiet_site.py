"""A sync leaves the site's pages alone: its embeddings land in few commits (each one makes a
web server re-render its cached pages), a web server loads the vector index the sync saved
instead of adding a day's vectors inside a search, and `serve`'s sync child runs at the lowest
priority and rests while the site serves pages."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.query import parse_query
from paperfeed.search import indexing
from paperfeed.search.vectors import VectorIndex
from paperfeed.sync import activity
from paperfeed.sync.activity import SiteActivity
from paperfeed.web.app import create_app
from tests.support.arxiv_feeds import first_announced, rss_items, rss_listing
from tests.support.fakes import HashingEmbedder, ManualClock
from tests.sync.conftest import Upstream


@pytest.fixture
def synced_day(sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock) -> PaperFeed:
    """`sync_feed` following stat, whose listing today holds every recorded item."""
    upstream.listing("stat", rss_listing(clock.now.date(), rss_items()))
    sync_feed.sync_service.add_source("arxiv", "stat")
    return sync_feed


@pytest.fixture
def site(sync_feed: PaperFeed, upstream: Upstream, settings: Settings) -> Iterator[PaperFeed]:
    """A web server's PaperFeed on the same store, with its own vector index in memory."""
    with PaperFeed(upstream.settings(settings), embedder=HashingEmbedder()) as feed:
        if feed.store.vectors_in_store:
            pytest.skip("the database searches the vectors itself: no index file to load")
        yield feed


def commits_of_embeddings(feed: PaperFeed, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of rows of each transaction that stores embeddings, as they happen."""
    commits: list[int] = []
    embeddings = feed.store.embeddings
    save = embeddings.save_embeddings
    monkeypatch.setattr(
        embeddings,
        "save_embeddings",
        lambda model, rows: commits.append(len(rows)) or save(model, rows),
    )
    return commits


def test_a_days_embeddings_are_committed_at_once_not_batch_by_batch(
    synced_day: PaperFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = commits_of_embeddings(synced_day, monkeypatch)

    report = synced_day.sync()

    assert report.embedded > indexing.EMBED_BATCH
    assert commits == [report.embedded]


def test_a_long_embedding_run_commits_every_slice(
    synced_day: PaperFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexing, "COMMIT_SECONDS", 0.0)  # every batch takes a slice's time
    commits = commits_of_embeddings(synced_day, monkeypatch)

    report = synced_day.sync()

    assert len(commits) == math.ceil(report.embedded / indexing.EMBED_BATCH)
    assert sum(commits) == report.embedded == synced_day.search_index.vector_count()


def test_a_web_server_loads_the_index_a_sync_saved_instead_of_adding_its_vectors(
    synced_day: PaperFeed, site: PaperFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert site.search_index.vector_count() == 0  # the server holds its index
    report = synced_day.sync()
    added: list[int] = []
    add = VectorIndex.add
    monkeypatch.setattr(
        VectorIndex,
        "add",
        lambda index, keys, vectors: added.append(len(keys)) or add(index, keys, vectors),
    )
    monkeypatch.setattr(indexing, "REFRESH_SECONDS", 0.0)
    paper = synced_day.store.papers.get_paper(sorted(first_announced(rss_items()))[0])

    hits = site.search(parse_query(paper.title)).hits

    assert hits[0].paper.id == paper.id
    assert site.search_index.vector_count() == report.embedded
    assert added == []


def test_vectors_committed_without_a_saved_index_are_added_after_a_grace(
    site: PaperFeed, synced_day: PaperFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced_day.sync(embed=False)  # an indexer that dies after committing, before the file
    ids = sorted(first_announced(rss_items()))
    keys = sorted(synced_day.store.papers.paper_keys(ids).values())
    assert site.search_index.vector_count() == 0
    vector = np.ones(HashingEmbedder().dim, np.float32) / np.sqrt(HashingEmbedder().dim)
    model = site.search_index.model
    synced_day.store.embeddings.save_embeddings(model, [(k, "hash", vector) for k in keys])
    monkeypatch.setattr(indexing, "REFRESH_SECONDS", 0.0)

    site.search(parse_query("neural networks"))
    assert site.search_index.vector_count() == 0  # waits for the indexer's file

    monkeypatch.setattr(indexing, "CATCH_UP_GRACE", 0.0)
    site.search(parse_query("neural networks"))
    assert site.search_index.vector_count() == len(keys)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_the_background_sync_runs_at_the_lowest_priority_off_the_first_cpu() -> None:
    code = (
        "import os; from paperfeed.cli.sync import yield_to_web_server; yield_to_web_server(); "
        "print(os.nice(0), sorted(os.sched_getaffinity(0)))"
    )
    cpus = sorted(os.sched_getaffinity(0))

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=1)

    assert out == ["19", str(cpus[1:] if len(cpus) > 1 else cpus) + "\n"]


def test_a_background_sync_rests_while_the_site_serves_pages(
    feed: PaperFeed, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = TestClient(SiteActivity(settings.data_dir).middleware(create_app(feed)))
    sync = SiteActivity(settings.data_dir)  # the sync child's view of the same file
    rests: list[float] = []
    sync.rest_after(1.0)  # nobody has asked for a page yet
    assert not sync.busy()

    assert site.get("/about").status_code == 200
    monkeypatch.setattr(activity.time, "sleep", rests.append)
    sync.rest_after(1.0)

    assert sync.busy()
    assert rests == [pytest.approx(1 / activity.BUSY_SHARE - 1)]
    monkeypatch.setattr(activity, "QUIET_SECONDS", 0.0)  # the site has been quiet since
    sync.rest_after(1.0)
    assert len(rests) == 1
