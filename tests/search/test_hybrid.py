"""Rank fusion, and hybrid search with the real MiniLM model over the seed papers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.files import read_jsonl
from paperfeed.query import parse_query
from paperfeed.search.embed import load_embedder
from paperfeed.search.hybrid import reciprocal_rank_fusion
from paperfeed.search.indexing import SearchIndexer
from tests.support.paths import DATA

BIPER = "BiPer: Binary Neural Networks using a Periodic Function"


def test_rrf_rewards_agreement_and_keeps_both_lists() -> None:
    fused = reciprocal_rank_fusion([1, 2, 3], [3, 4, 1], k=60)
    assert [f.key for f in fused][:2] == [1, 3]  # in both lists beats first in one
    assert {f.key for f in fused} == {1, 2, 3, 4}
    by_key = {f.key: f for f in fused}
    assert (by_key[3].keyword_rank, by_key[3].dense_rank) == (3, 1)
    assert by_key[2].dense_rank is None and by_key[4].keyword_rank is None


def test_rrf_weights_and_duplicates() -> None:
    assert reciprocal_rank_fusion([1], [2], keyword_weight=2.0)[0].key == 1
    assert reciprocal_rank_fusion([1], [2], dense_weight=2.0)[0].key == 2
    fused = reciprocal_rank_fusion([5, 5, 6], [])
    assert [f.key for f in fused] == [5, 6] and fused[0].keyword_rank == 1
    assert reciprocal_rank_fusion([], []) == []


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperFeed]:
    """The first 150 seed papers (binary networks, continual learning...: the first result pages
    of the reference site) embedded once with the real packaged MiniLM."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("hybrid"), embedder="minilm-128")
    with PaperFeed(settings, embedder=load_embedder("minilm-128")) as paperfeed:
        paperfeed.ingest(itertools.islice(read_jsonl(DATA / "seed_papers.jsonl"), 150))
        assert paperfeed.index() == paperfeed.store.papers.count_papers()
        yield paperfeed


def test_hybrid_finds_a_paper_described_in_other_words(feed: PaperFeed) -> None:
    results = feed.search(parse_query("binary networks with a periodic activation instead of sign"))
    top = [h.paper.title for h in results.hits[:3]]
    assert BIPER in top
    hit = next(h for h in results.hits if h.paper.title == BIPER)
    assert hit.dense_rank is not None and hit.dense_rank <= 3


def test_dense_finds_papers_without_shared_words(feed: PaperFeed) -> None:
    text = "networks forget old tasks when trained on new ones"
    results = feed.search(parse_query(text))
    semantic_only = [h for h in results.hits[:10] if h.keyword_rank is None]
    assert any("continual" in h.paper.title.lower() for h in results.hits[:5])
    assert all(h.dense_rank is not None for h in semantic_only)


def test_similar_with_minilm_is_on_topic(feed: PaperFeed) -> None:
    key = feed.store.papers.key_by_title(BIPER)
    assert key is not None
    (biper,) = feed.store.papers.papers_by_keys([key])
    similar = feed.similar(biper.id, limit=5)
    assert biper.id not in [p.id for p in similar] and len(similar) == 5
    assert sum("binar" in p.title.lower() for p in similar) >= 3


def test_a_restart_reuses_the_saved_index(feed: PaperFeed) -> None:
    embedder = feed.search_index.embedder
    restarted = SearchIndexer(feed.store, feed.settings, embedder=embedder)
    assert restarted.sync() == "in sync"
    assert len(restarted.vector_index) == feed.store.papers.count_papers()
    assert restarted.index() == 0
