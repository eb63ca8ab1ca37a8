"""Search with a fast test embedder: incremental indexing, crash repair, hybrid search, similar
papers. (The real MiniLM is exercised in test_hybrid.py.)"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator

import numpy as np
import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.errors import NotFound
from paperfeed.ingest.files import read_jsonl
from paperfeed.models import Paper
from paperfeed.query import parse_query
from paperfeed.search.engine import SearchEngine, SearchResults
from paperfeed.search.indexing import SearchIndexer
from paperfeed.search.vectors import sidecar_path
from tests.support.fakes import HashingEmbedder
from tests.support.paths import DATA

BIPER = "BiPer: Binary Neural Networks using a Periodic Function"
QUERIES = ["binary neural networks", "continual learning", "self-supervised representation"]


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def seeded(settings: Settings, embedder: HashingEmbedder) -> Iterator[PaperFeed]:
    """The seed papers, not embedded yet, in a feed searching with the test embedder."""
    with PaperFeed(settings, embedder=embedder) as feed:
        feed.ingest(read_jsonl(DATA / "seed_papers.jsonl"))
        yield feed


def restart(feed: PaperFeed, embedder: HashingEmbedder | None = None) -> SearchEngine:
    """Fresh search objects on the feed's store, as after a restart: the ANN file is read again."""
    indexer = SearchIndexer(feed.store, feed.settings, embedder=embedder or HashingEmbedder())
    return SearchEngine(feed.store, indexer)


def search(searcher: PaperFeed | SearchEngine, text: str, **filters: object) -> SearchResults:
    return searcher.search(parse_query(text, **filters))  # type: ignore[arg-type]


def snapshot(searcher: PaperFeed | SearchEngine) -> list[list[tuple[str, int | None]]]:
    return [[(h.paper.id, h.dense_rank) for h in search(searcher, q).hits] for q in QUERIES]


def paper_id(feed: PaperFeed, title: str) -> str:
    key = feed.store.papers.key_by_title(title)
    assert key is not None
    return feed.store.papers.papers_by_keys([key])[0].id


def test_index_is_incremental(seeded: PaperFeed, embedder: HashingEmbedder) -> None:
    total = seeded.store.papers.count_papers()
    progress: list[int] = []
    assert seeded.index(on_progress=progress.append) == total
    assert embedder.calls == total and sum(progress) == total
    assert seeded.search_index.vector_count() == total

    assert seeded.index() == 0 and embedder.calls == total
    assert seeded.search_index.pending() == 0

    paper = seeded.store.papers.get_paper(paper_id(seeded, BIPER))
    seeded.store.papers.upsert_papers(
        [paper.replace(comments="12 pages")]
    )  # not in the embedded text
    assert seeded.index() == 0
    seeded.store.papers.upsert_papers(
        [paper.replace(abstract=paper.abstract + " Code is released.")]
    )
    assert seeded.index() == 1 and embedder.calls == total + 1

    seeded.store.papers.upsert_papers(
        [Paper(id="local:new", title="A new paper", abstract="Fresh text.")]
    )
    restarted = restart(seeded, embedder)
    assert restarted.indexer.index() == 1  # also after a restart
    assert restarted.indexer.vector_count() == total + 1


def test_keyword_results_before_indexing_then_hybrid(seeded: PaperFeed) -> None:
    before = search(seeded, "binary neural networks periodic")
    assert before.hits[0].paper.title == BIPER
    assert all(h.dense_rank is None for h in before.hits)
    seeded.index()
    after = search(seeded, "binary neural networks periodic")
    assert BIPER in [h.paper.title for h in after.hits[:3]]
    assert any(h.dense_rank is not None for h in after.hits)


@pytest.mark.backends("sqlite")  # the ANN index file; PostgreSQL searches pgvector
@pytest.mark.parametrize("damage", ["delete", "corrupt", "garble_sidecar", "marker_ahead"])
def test_sync_repairs_a_broken_index(seeded: PaperFeed, damage: str) -> None:
    seeded.index()
    expected = snapshot(seeded)
    assert any(rank is not None for hits in expected for _, rank in hits)
    path = seeded.search_index.index_path
    side = sidecar_path(path)
    if damage == "delete":
        path.unlink()
    elif damage == "corrupt":
        path.write_bytes(b"\x00garbage" * 100)
    elif damage == "garble_sidecar":
        side.write_text("{not json")
    else:
        meta = json.loads(side.read_text())
        side.write_text(json.dumps({**meta, "synced_through": meta["synced_through"] + 1000}))
    restarted = restart(seeded)
    assert snapshot(restarted) == expected
    assert restarted.indexer.vector_count() == seeded.store.papers.count_papers()


@pytest.mark.backends("sqlite")  # the ANN index file; PostgreSQL searches pgvector
def test_sync_catches_up_an_index_left_behind(seeded: PaperFeed, tmp_path) -> None:
    seeded.index()
    path = seeded.search_index.index_path
    old = tmp_path / "old"
    old.mkdir()
    for file in (path, sidecar_path(path)):
        shutil.copy(file, old / file.name)
    extra = [
        Paper(id=f"local:x{i}", title=f"Binary neural networks part {i}", abstract="Binary.")
        for i in range(5)
    ]
    seeded.store.papers.upsert_papers(extra)
    seeded.store.papers.catch_up_keyword_index()
    assert seeded.index() == 5
    expected = snapshot(seeded)
    for file in (path, sidecar_path(path)):  # a crash before the new index was saved
        shutil.copy(old / file.name, file)
    restarted = restart(seeded)
    assert restarted.indexer.sync() == "added 5 vectors"
    assert snapshot(restarted) == expected

    meta = json.loads(sidecar_path(path).read_text())  # marker rolled back: re-applied, same
    sidecar_path(path).write_text(json.dumps({**meta, "synced_through": 3}))
    assert snapshot(restart(seeded)) == expected


def test_hidden_papers_never_shown(seeded: PaperFeed) -> None:
    seeded.index()
    biper = paper_id(seeded, BIPER)
    assert biper in [h.paper.id for h in search(seeded, "binary periodic").hits]
    seeded.store.papers.set_paper_hidden(biper, True)
    assert biper not in [h.paper.id for h in search(seeded, "binary periodic").hits]
    assert search(seeded, BIPER).hits[0].paper.id != biper
    assert biper not in [
        p.id
        for p in seeded.similar(
            paper_id(
                seeded,
                "MST-compression: "
                "Compressing and Accelerating Binary Neural Networks with Minimum "
                "Spanning Tree",
            ),
            limit=50,
        )
    ]


def test_similar_excludes_itself_and_same_titles(seeded: PaperFeed) -> None:
    seeded.index()
    biper = seeded.store.papers.get_paper(paper_id(seeded, BIPER))
    copy = biper.replace(id="local:copy-of-biper", abstract=biper.abstract + " (conference)")
    seeded.store.papers.upsert_papers([copy])
    seeded.index()
    similar = seeded.similar(biper.id, limit=5)
    assert len(similar) == 5
    assert all(p.id not in (biper.id, copy.id) for p in similar)
    assert all(p.title != BIPER for p in similar)
    assert "binar" in similar[0].title.lower()
    with pytest.raises(NotFound):
        seeded.similar("2401.99999")


def test_similar_embeds_a_paper_not_indexed_yet(seeded: PaperFeed) -> None:
    seeded.index()
    seeded.store.papers.upsert_papers(
        [Paper(id="2409.00001", title="Periodic binary neural networks", abstract="Sign to sine.")]
    )
    assert len(seeded.similar("arXiv:2409.00001v2", limit=3)) == 3


def test_arxiv_id_and_exact_title_come_first(seeded: PaperFeed) -> None:
    seeded.store.papers.upsert_papers(
        [Paper(id="2401.01234", title="Binary periodic widgets", abstract="Widgets.")]
    )
    seeded.store.papers.catch_up_keyword_index()
    for form in (
        "2401.01234",
        "arXiv:2401.01234v2",
        "https://arxiv.org/abs/2401.01234v1",
        "https://arxiv.org/pdf/2401.01234.pdf",
    ):
        results = search(seeded, form)
        assert [h.paper.id for h in results.hits] == ["2401.01234"], form
    missing = search(seeded, "2501.00001")
    assert missing.hits == [] and "not in this collection" in (missing.message or "")
    title = "Binary and Ternary Natural Language Generation"
    assert search(seeded, title.lower()).hits[0].paper.title == title


def test_sorting_and_paging(seeded: PaperFeed) -> None:
    seeded.index()
    by_date = search(seeded, "neural networks", sort="date", limit=30).hits
    dates = [h.paper.published for h in by_date if h.paper.published]
    assert dates == sorted(dates, reverse=True) and len(dates) > 5
    by_votes = search(seeded, "neural networks", sort="upvotes", limit=30).hits
    assert {h.paper.id for h in by_votes} <= {
        h.paper.id for h in search(seeded, "neural networks", sort="date", limit=100).hits
    }
    first = search(seeded, "neural networks", limit=10)
    second = search(seeded, "neural networks", limit=10, offset=10)
    assert not {h.paper.id for h in first.hits} & {h.paper.id for h in second.hits}
    assert first.total >= 20


def test_filters_apply_to_dense_candidates(seeded: PaperFeed) -> None:
    seeded.store.papers.upsert_papers(
        [
            Paper(
                id="2402.00001",
                title="Binary networks in speech",
                abstract="Binary neural networks for keyword spotting.",
                categories=["eess.AS"],
                authors=["Ada Lovelace"],
                published=dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
            )
        ]
    )
    seeded.store.papers.catch_up_keyword_index()
    seeded.index()
    for filters in (
        {"category": "eess"},
        {"author": "lovelace"},
        {"date_from": dt.date(2024, 2, 1), "date_to": dt.date(2024, 2, 1)},
    ):
        results = search(seeded, "binary neural networks", **filters)
        assert [h.paper.id for h in results.hits] == ["2402.00001"], filters
    excluded = search(seeded, "binary neural networks -speech -periodic")
    assert all("speech" not in h.paper.title.lower() for h in excluded.hits)
    assert BIPER not in [h.paper.title for h in excluded.hits]


def test_empty_query_lists_by_date_with_filters(seeded: PaperFeed) -> None:
    results = search(seeded, "", date_from=dt.date(2023, 1, 1), limit=50)
    dates = [h.paper.published for h in results.hits]
    assert dates and all(d and d.date() >= dt.date(2023, 1, 1) for d in dates)
    assert dates == sorted(dates, reverse=True)
    assert results.total >= len(results.hits)


def test_the_callers_query_is_searched_as_given_and_left_unchanged(seeded: PaperFeed) -> None:
    query = parse_query("binary neural networks", sort="date", limit=5, offset=2)
    results = seeded.search(query, mode="keyword")
    assert results.query.sort == "date" and (results.query.limit, results.query.offset) == (5, 2)
    assert 0 < len(results.hits) <= 5 and all(h.dense_rank is None for h in results.hits)
    results.query.messages.append("added by a search")
    assert query.messages == []  # each search has its own copy of the messages
    with pytest.raises(ValueError, match="unknown search mode"):
        seeded.search(query, mode="fuzzy")


def test_vectors_nearest_and_background_indexing(seeded: PaperFeed) -> None:
    thread = seeded.index_in_background()
    thread.join(timeout=60)
    total = seeded.store.papers.count_papers()
    assert not thread.is_alive() and seeded.search_index.vector_count() == total
    engine = seeded.search_engine
    biper = paper_id(seeded, BIPER)
    vectors = engine.vectors_for([biper, "2401.99999"])
    assert list(vectors) == [biper]
    nearest = engine.nearest(vectors[biper], 3, exclude_ids=[biper])
    assert len(nearest) == 3 and biper not in [p.id for p, _ in nearest]
    assert nearest[0][1] >= nearest[-1][1]
    query = engine.embed_query("binary neural networks")
    assert np.isclose(np.linalg.norm(query), 1.0)


def test_searches_see_embeddings_another_process_wrote_without_recounting(
    seeded: PaperFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SearchIndexer(seeded.store, seeded.settings, embedder=HashingEmbedder())
    papers = seeded.store.papers.count_papers()
    writer.index()
    assert seeded.search_index.vector_count() == papers
    statuses: list[str] = []
    embeddings = seeded.store.embeddings
    status = embeddings.embedding_status
    monkeypatch.setattr(
        embeddings, "embedding_status", lambda model: statuses.append(model) or status(model)
    )
    monkeypatch.setattr("paperfeed.search.indexing.REFRESH_SECONDS", 0.0)
    search(seeded, "binary neural networks")
    assert statuses == []  # nothing new: one index lookup, no count over every embedding
    spiking = Paper(id="2409.99999", title="Spiking binary networks", abstract="")
    seeded.store.papers.upsert_papers([spiking])
    writer.index()
    assert search(seeded, "spiking binary").hits
    assert statuses and seeded.search_index.vector_count() == papers + 1
