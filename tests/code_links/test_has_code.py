"""`has:code` on both backends: ranked keyword search, hybrid search (nearest neighbours are
filtered too), listings without words, and a paper whose new version links its code."""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Iterator

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.ingest.files import read_jsonl
from paperfeed.query import parse_query
from tests.support.factories import make_paper
from tests.support.fakes import HashingEmbedder
from tests.support.paths import DATA

CRAWL = DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz"
SAMPLE = 600  # the first papers of the crawl: about one in five links its code


@pytest.fixture(scope="module")
def crawl_feed(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[PaperFeed]:
    if not CRAWL.exists():
        pytest.skip(f"no shared data at {CRAWL}")
    folder = tmp_path_factory.mktemp("crawl")
    sample = folder / "sample.jsonl"
    with gzip.open(CRAWL, "rt") as lines:
        sample.write_text("".join(itertools.islice(lines, SAMPLE)))
    settings = Settings(
        data_dir=folder / "data", database_url=module_database_url, secret_key="test"
    )
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        report = feed.ingest(read_jsonl(sample))
        assert report.new == SAMPLE
        feed.index()
        yield feed


def linked_ids() -> set[str]:
    """Ids of the sample whose abstract or comment holds a github/gitlab repository link."""
    with gzip.open(CRAWL, "rt") as lines:
        records = [json.loads(line) for line in itertools.islice(lines, SAMPLE)]
    return {
        r["id"]
        for r in records
        if any(
            host in f"{r['abstract']} {r.get('comment') or ''}".lower()
            for host in ("github.com/", "gitlab.com/")
        )
    }


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_has_code_keeps_only_papers_with_code(crawl_feed: PaperFeed, mode: str) -> None:
    everything = crawl_feed.search(parse_query("segmentation", limit=100), mode=mode).hits
    with_code = crawl_feed.search(parse_query("segmentation has:code", limit=100), mode=mode).hits
    assert any(hit.paper.code_url is None for hit in everything)
    assert with_code and all(hit.paper.code_url for hit in with_code)
    coded = {hit.paper.id for hit in everything if hit.paper.code_url}
    if mode == "keyword":
        assert {hit.paper.id for hit in with_code} == coded


def test_has_code_alone_lists_every_paper_with_code(crawl_feed: PaperFeed) -> None:
    listed = crawl_feed.search(parse_query("has:code", sort="date", limit=100, offset=0))
    found = {hit.paper.id for hit in listed.hits}
    offset = 100
    while len(listed.hits) == 100:
        listed = crawl_feed.search(parse_query("has:code", sort="date", limit=100, offset=offset))
        found |= {hit.paper.id for hit in listed.hits}
        offset += 100
    assert found == linked_ids()


def test_a_new_version_that_links_its_code_is_found(feed_with_hashing: PaperFeed) -> None:
    feed = feed_with_hashing
    feed.ingest(iter([Record(make_paper("2501.00007", title="Sparse mixture routing"))]))
    assert feed.search(parse_query("routing has:code"), mode="keyword").hits == []
    linked = make_paper(
        "2501.00007",
        title="Sparse mixture routing",
        version=2,
        abstract="We route tokens sparsely. Code: https://github.com/ada/routing.",
    )
    feed.ingest(iter([Record(linked)]))
    hits = feed.search(parse_query("routing has:code"), mode="keyword").hits
    assert [(h.paper.id, h.paper.code_url) for h in hits] == [
        ("2501.00007", "https://github.com/ada/routing")
    ]


@pytest.fixture
def feed_with_hashing(settings: Settings) -> Iterator[PaperFeed]:
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        yield feed
