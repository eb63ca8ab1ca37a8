"""Keyword search (BM25 by tantivy; on PostgreSQL tsvector until the index is built) and
filters, on the real seed papers plus a few dated ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.files import read_jsonl
from paperfeed.models import Paper
from paperfeed.query import parse_query
from paperfeed.store import postgres_keyword
from paperfeed.store.sqlite_keyword import author_expression, fts_string
from tests.support.paths import DATA

UTC = dt.UTC
EXTRA = [
    Paper(
        id="2401.00001",
        title="Self-supervised learning of visual features",
        abstract="We learn image features without labels using contrastive objectives.",
        authors=["Geoffrey E. Hinton", "Ana Müller"],
        categories=["cs.CV", "cs.LG"],
        published=dt.datetime(2024, 1, 10, tzinfo=UTC),
    ),
    Paper(
        id="2305.00002",
        title="Self supervised speech representations",
        abstract="Speech models pre-trained on unlabeled audio transfer to recognition.",
        authors=["Yann LeCun", "Jane Hinton-Smith"],
        categories=["cs.CL"],
        published=dt.datetime(2023, 5, 1, tzinfo=UTC),
    ),
    Paper(
        id="2202.00003",
        title="Gröbner bases for robot kinematics",
        abstract="Polynomial systems from kinematics solved with Gröbner bases.",
        authors=["José Núñez"],
        categories=["math.AG"],
        published=dt.datetime(2022, 2, 2, tzinfo=UTC),
    ),
]


@pytest.fixture(scope="module")
def feed(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[PaperFeed]:
    data_dir: Path = tmp_path_factory.mktemp("keyword")
    settings = Settings(data_dir=data_dir, database_url=module_database_url, secret_key="x")
    with PaperFeed(settings) as paperfeed:
        paperfeed.ingest(read_jsonl(DATA / "seed_papers.jsonl"))
        paperfeed.store.papers.upsert_papers(EXTRA)
        paperfeed.store.papers.catch_up_keyword_index()
        yield paperfeed


def titles(feed: PaperFeed, text: str, **filters: object) -> list[str]:
    query = parse_query(text, **filters)  # type: ignore[arg-type]
    keys = [key for key, _ in feed.store.papers.keyword_search(query, 500)]
    return [p.title for p in feed.store.papers.papers_by_keys(keys)]


def test_fts_strings_neutralise_syntax() -> None:
    assert fts_string('a "b" OR c*') == '"a ""b"" OR c*"'
    assert author_expression("G. Hinton") == 'authors : NEAR("G"* "Hinton", 2)'


def test_more_matching_words_rank_higher(feed: PaperFeed) -> None:
    found = titles(feed, "binary neural networks periodic function")
    assert found[0] == "BiPer: Binary Neural Networks using a Periodic Function"
    assert len(found) > 10  # any word matches (OR), all words rank first


def test_phrase_must_appear(feed: PaperFeed) -> None:
    keys = [
        k for k, _ in feed.store.papers.keyword_search(parse_query('"binary neural networks"'), 500)
    ]
    found = feed.store.papers.papers_by_keys(keys)
    assert found
    assert all("binary neural network" in f"{p.title} {p.abstract}".lower() for p in found)
    assert len(titles(feed, "binary neural networks")) > len(found)


def test_exclusion(feed: PaperFeed) -> None:
    with_periodic = titles(feed, "binary neural networks")
    without = titles(feed, "binary neural networks -periodic")
    assert "BiPer: Binary Neural Networks using a Periodic Function" in with_periodic
    assert "BiPer: Binary Neural Networks using a Periodic Function" not in without
    assert 0 < len(without) < len(with_periodic)


def test_hyphenated_words_match_both_spellings(feed: PaperFeed) -> None:
    for text in ("self-supervised", "self supervised", '"self supervised"'):
        found = titles(feed, text)
        assert "Self-supervised learning of visual features" in found
        assert "Self supervised speech representations" in found


def test_accents_are_folded(feed: PaperFeed) -> None:
    assert titles(feed, "grobner") == ["Gröbner bases for robot kinematics"]
    assert titles(feed, "x", author="Nunez") == []  # filters only narrow matches of the words
    assert titles(feed, "kinematics", author="Jose Nunez") == ["Gröbner bases for robot kinematics"]


def test_author_filter(feed: PaperFeed) -> None:
    assert set(titles(feed, "self supervised author:hinton")) == {
        "Self-supervised learning of visual features",
        "Self supervised speech representations",  # Jane Hinton-Smith
    }
    assert titles(feed, 'self supervised author:"G. Hinton"') == [
        "Self-supervised learning of visual features"
    ]
    assert titles(feed, 'self supervised author:"Yann LeCun"') == [
        "Self supervised speech representations"
    ]


def test_category_filter_exact_and_archive(feed: PaperFeed) -> None:
    assert titles(feed, "self supervised cat:cs.CL") == ["Self supervised speech representations"]
    assert len(titles(feed, "self supervised cat:cs")) == 2
    assert titles(feed, "self supervised cat:math") == []
    assert titles(feed, "bases cat:math") == ["Gröbner bases for robot kinematics"]


def test_date_filters(feed: PaperFeed) -> None:
    def found(text: str, **filters: object) -> list[str]:
        return titles(feed, f"self supervised author:hinton {text}", **filters)

    assert found("after:2024") == ["Self-supervised learning of visual features"]
    assert found("before:2024") == ["Self supervised speech representations"]
    assert found("", date_from=dt.date(2023, 5, 1), date_to=dt.date(2023, 5, 1)) == [
        "Self supervised speech representations"
    ]
    assert found("after:2023-05-02 before:2024-01-10") == []
    assert found("year:2022") == []


def test_listing_without_words_sorts_by_date(feed: PaperFeed) -> None:
    keys, total = feed.store.papers.list_keys(parse_query("cat:cs"), 10)
    papers = feed.store.papers.papers_by_keys(keys)
    assert total == 2 and [p.id for p in papers] == ["2401.00001", "2305.00002"]
    keys, total = feed.store.papers.list_keys(parse_query("-speech cat:cs"), 10)
    assert total == 1


def test_hidden_papers_are_never_found(feed: PaperFeed) -> None:
    assert "Gröbner bases for robot kinematics" in titles(feed, "grobner")
    feed.store.papers.set_paper_hidden("2202.00003", True)
    try:
        assert titles(feed, "grobner") == []
        keys = feed.store.papers.paper_keys(["2202.00003"])
        assert feed.store.papers.filter_keys(list(keys.values()), parse_query("")) == set()
        assert feed.search(parse_query("2202.00003")).hits == []
    finally:
        feed.store.papers.set_paper_hidden("2202.00003", False)


def test_feed_search_finds_seed_paper_by_words(feed: PaperFeed) -> None:
    results = feed.search(parse_query("periodic function binary"))
    assert results.hits[0].paper.title.startswith("BiPer")
    assert results.hits[0].keyword_rank == 1


def test_postgres_selects_candidates_by_the_rarer_words_of_a_broad_query(
    feed: PaperFeed, module_database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not module_database_url:
        pytest.skip("the tsvector ranking's cap; tantivy keeps only the top results by itself")
    query = parse_query("learning binary")

    def fallback_search() -> list[tuple[int, float]]:  # while a node's tantivy index is built
        with feed.store.engine.connect() as conn:
            frequencies = postgres_keyword.DocumentFrequencies()
            return postgres_keyword.keyword_search(conn, query, 500, frequencies)

    everything = fallback_search()
    monkeypatch.setattr("paperfeed.store.postgres_keyword.MATCHED_ROWS_CAP", 20)
    selected = fallback_search()
    assert 0 < len(selected) < len(everything)
    for paper in feed.store.papers.papers_by_keys([key for key, _ in selected]):
        assert "binar" in f"{paper.title} {paper.abstract}".lower()
    assert selected[0][0] == everything[0][0]  # papers with both words still rank first
