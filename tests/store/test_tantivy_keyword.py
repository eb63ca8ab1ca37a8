"""The SQLite store's tantivy ranking index stays in step with the papers table."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import tantivy

from paperfeed.query import parse_query
from paperfeed.store import tantivy_keyword
from paperfeed.store.sqlite import SqliteStore
from paperfeed.store.tantivy_keyword import MARKER, SHARDS, TantivyKeywordIndex
from tests.support.factories import bare_paper


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore.open(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    store.papers.upsert_papers(
        [
            bare_paper("2401.00001", "Gradient descent in theory and practice"),
            bare_paper("2401.00002", "A theory of mind for language models"),
            bare_paper(
                "2401.00003", "Graph neural networks", "Message passing over graphs of molecules."
            ),
        ]
    )
    store.papers.catch_up_keyword_index()
    return store


def ids(store: SqliteStore, text: str, limit: int = 50) -> list[str]:
    keys = [key for key, _ in store.papers.keyword_search(parse_query(text), limit)]
    return [p.id for p in store.papers.papers_by_keys(keys)]


def documents(store: SqliteStore) -> int:
    for shard in store.ranking.shards:
        shard.reload()
    return sum(shard.searcher().num_docs for shard in store.ranking.shards)


def segments(store: SqliteStore) -> int:
    return sum(shard.searcher().num_segments for shard in store.ranking.shards)


def test_changed_titles_are_searched_by_their_new_words(store: SqliteStore) -> None:
    assert ids(store, "gradient") == ["2401.00001"]
    store.papers.upsert_papers(
        [bare_paper("2401.00001", "Stochastic optimisation with momentum").replace(version=2)]
    )
    store.papers.catch_up_keyword_index()
    assert ids(store, "gradient") == []
    assert ids(store, "momentum") == ["2401.00001"]
    assert documents(store) == 3


def test_new_papers_are_found_without_an_explicit_catch_up(store: SqliteStore) -> None:
    store.papers.upsert_papers([bare_paper("2401.00004", "Diffusion models for proteins")])
    assert ids(store, "diffusion proteins") == ["2401.00004"]


def test_a_large_backlog_is_left_to_its_import_for_a_while(
    store: SqliteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_keyword, "CHECK_SECONDS", 0.0)
    batch = tantivy_keyword.SEARCH_BACKLOG + 1
    store.papers.upsert_papers(
        [bare_paper(f"2402.{n:05d}", "Tropical geometry") for n in range(batch)]
    )
    assert ids(store, "tropical") == []  # the search did not index a day's import itself
    importer = SqliteStore.open(f"sqlite:///{tmp_path / 'paperfeed.db'}")  # its own process
    try:
        importer.papers.catch_up_keyword_index()
    finally:
        importer.close()
    assert len(ids(store, "tropical", 500)) == batch  # the import's commit is seen at once

    store.papers.upsert_papers(
        [bare_paper(f"2403.{n:05d}", "Knot invariants") for n in range(batch)]
    )
    assert ids(store, "knot") == []
    monkeypatch.setattr(tantivy_keyword, "BACKLOG_GRACE", 0.0)  # nobody took it on in time
    assert len(ids(store, "knot", 500)) == batch


def test_stop_words_count_in_phrases_not_as_optional_words(store: SqliteStore) -> None:
    assert ids(store, '"theory of mind"') == ["2401.00002"]
    assert ids(store, '"theory in mind"') == []
    assert set(ids(store, "of")) == {"2401.00002", "2401.00003"}  # only stop words: all count
    assert set(ids(store, "the theory")) == {"2401.00001", "2401.00002"}


def test_a_lost_index_directory_is_rebuilt(store: SqliteStore, tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "paperfeed.db.keywords")
    reopened = SqliteStore.open(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    assert ids(reopened, "graph molecules") == ["2401.00003"]
    assert documents(reopened) == 3


def test_a_lost_shard_is_rebuilt_with_the_others(store: SqliteStore, tmp_path: Path) -> None:
    assert documents(store) == 3
    shutil.rmtree(tmp_path / "paperfeed.db.keywords" / str(SHARDS - 1))
    reopened = SqliteStore.open(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    assert set(ids(reopened, "theory graph")) == {"2401.00001", "2401.00002", "2401.00003"}
    assert documents(reopened) == 3
    assert all(shard.searcher().num_docs for shard in reopened.ranking.shards)  # spread


def test_a_commit_whose_marker_was_lost_is_not_indexed_twice(
    store: SqliteStore, tmp_path: Path
) -> None:
    marker_path = tmp_path / "paperfeed.db.keywords" / MARKER
    marker = json.loads(marker_path.read_text())
    marker_path.write_text(json.dumps({**marker, "through": 1}))  # as if killed before it
    store.ranking._checked_at = 0.0
    assert ids(store, "graph") == ["2401.00003"]
    assert documents(store) == 3


def test_an_index_of_another_format_is_replaced(tmp_path: Path, store: SqliteStore) -> None:
    marker_path = tmp_path / "paperfeed.db.keywords" / MARKER
    marker_path.write_text(json.dumps({"format": -1, "through": 3, "changes_through": 0}))
    reopened = SqliteStore.open(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    assert documents(reopened) == 0  # a new, empty index...
    assert ids(reopened, "graph") == ["2401.00003"]  # ...filled at the first search


def test_a_busy_writer_elsewhere_leaves_search_working(store: SqliteStore, tmp_path: Path) -> None:
    other = TantivyKeywordIndex(store.engine, tmp_path / "paperfeed.db.keywords")
    writer = other.shards[-1].writer(heap_size=15_000_000, num_threads=1)
    try:
        store.papers.upsert_papers([bare_paper("2401.00005", "Sparse attention kernels")])
        assert store.ranking.sync() == 0  # the other writer holds the lock
        assert ids(store, "graph") == ["2401.00003"]
    finally:
        del writer
    assert store.ranking.sync() == 1
    assert ids(store, "sparse attention") == ["2401.00005"]


def test_the_index_is_a_tantivy_index_beside_the_database(
    tmp_path: Path, store: SqliteStore
) -> None:
    shards = [tmp_path / "paperfeed.db.keywords" / str(n) for n in range(SHARDS)]
    assert all(tantivy.Index.exists(str(shard)) for shard in shards)


def test_words_of_a_hyphenated_or_repeated_query_word_are_scored_separately(
    store: SqliteStore,
) -> None:
    assert ids(store, "networks-graph") == ["2401.00003"]  # any order: not a phrase
    assert ids(store, "graph graphs molecules") == ["2401.00003"]


def test_in_large_collections_the_commonest_words_are_not_scored(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(ids(store, "abstract graph")) == 3  # "abstract" is in two of the three
    monkeypatch.setattr(tantivy_keyword, "PRUNE_COMMON_FROM", 3)
    assert ids(store, "abstract graph") == ["2401.00003"]
    assert len(ids(store, "abstract")) == 2  # nothing rarer: the common words count


def test_candidates_are_filtered_by_phrases_exclusions_and_visibility(store: SqliteStore) -> None:
    keys = store.papers.paper_keys(["2401.00001", "2401.00002", "2401.00003"])
    every = set(keys.values())
    assert store.papers.filter_keys(list(every), parse_query("x")) == every
    assert store.papers.filter_keys(list(every), parse_query('"theory of mind"')) == {
        keys["2401.00002"]
    }
    assert store.papers.filter_keys(list(every), parse_query("x -theory")) == {keys["2401.00003"]}
    assert store.papers.filter_keys(list(every), parse_query("x author:author")) == every
    assert store.papers.filter_keys(list(every), parse_query('x author:"B. Author"')) == set()
    store.papers.set_paper_hidden("2401.00003", True)
    assert store.papers.filter_keys(list(every), parse_query("x")) == every - {keys["2401.00003"]}
    assert ids(store, "graph") == []


def test_an_in_memory_store_answers_from_other_threads() -> None:
    store = SqliteStore.open("sqlite:///:memory:")
    store.papers.upsert_papers([bare_paper("2401.00001", "Graph neural networks")])
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(ids, store, "graph").result() == ["2401.00001"]


def test_shards_score_as_one_index_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    titles = ["alpha beta", "alpha gamma", "delta gamma", "alpha delta", "beta beta", "gamma eta"]
    papers = [  # equally long texts: BM25's length normalisation is the same in every shard
        bare_paper(f"2401.{n:05d}", title, "") for n, title in enumerate(titles, start=1)
    ]

    def scores(name: str) -> list[tuple[int, float]]:
        store = SqliteStore.open(f"sqlite:///{tmp_path / name}")
        store.papers.upsert_papers(papers)
        store.papers.catch_up_keyword_index()
        return [
            (k, round(s, 4)) for k, s in store.papers.keyword_search(parse_query("alpha gamma"), 10)
        ]

    sharded = scores("sharded.db")
    monkeypatch.setattr(tantivy_keyword, "SHARDS", 1)
    assert sharded == scores("single.db")
    assert len(sharded) == 5


def test_a_large_catch_up_commits_in_bulk(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_keyword, "BULK_FROM", 2)
    monkeypatch.setattr(tantivy_keyword, "BATCH", 1)  # one page a paper, one commit for all
    store.papers.upsert_papers(
        [bare_paper(f"2401.{n:05d}", f"Sparse attention kernels, part {n}") for n in range(4, 7)]
    )
    before = segments(store)
    assert store.ranking.sync() == 3
    assert segments(store) <= before + SHARDS  # one new segment a shard
    assert len(ids(store, "sparse attention")) == 3
    assert documents(store) == 6
    marker = json.loads((store.ranking.path / MARKER).read_text())
    assert marker["through"] == max(store.papers.paper_keys(["2401.00006"]).values())
