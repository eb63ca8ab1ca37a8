"""SearchService with a fast test embedder: incremental indexing, crash repair, hybrid search,
similar papers. (The real MiniLM is exercised in test_hybrid.py.)"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import pytest

from paperfeed.core import PaperFeed
from paperfeed.errors import NotFound
from paperfeed.ingest.files import read_jsonl
from paperfeed.models import Paper
from paperfeed.search.service import SearchService
from paperfeed.search.vectors import sidecar_path
from tests.conftest import DATA
from tests.search.fakes import HashingEmbedder

BIPER = "BiPer: Binary Neural Networks using a Periodic Function"
QUERIES = ["binary neural networks", "continual learning", "self-supervised representation"]


def attach(feed: PaperFeed, embedder: HashingEmbedder | None = None) -> SearchService:
    """A fresh SearchService on the feed's store (as after a restart), with the test embedder."""
    service = SearchService(feed.store, feed.settings, embedder=embedder or HashingEmbedder())
    feed.__dict__["search_service"] = service
    return service


@pytest.fixture
def seeded(feed: PaperFeed) -> PaperFeed:
    feed.ingest(read_jsonl(DATA / "seed_papers.jsonl"))
    return feed


def snapshot(feed: PaperFeed) -> list[list[tuple[str, int | None]]]:
    return [[(h.paper.id, h.dense_rank) for h in feed.search(q).hits] for q in QUERIES]


def paper_id(feed: PaperFeed, title: str) -> str:
    key = feed.store.papers.key_by_title(title)
    assert key is not None
    return feed.store.papers.papers_by_keys([key])[0].id


def test_index_is_incremental(seeded: PaperFeed) -> None:
    embedder = HashingEmbedder()
    service = attach(seeded, embedder)
    total = seeded.store.papers.count_papers()
    progress: list[int] = []
    assert seeded.index(on_progress=progress.append) == total
    assert embedder.calls == total and sum(progress) == total
    assert service.vector_count() == total

    assert seeded.index() == 0 and embedder.calls == total
    assert service.pending() == 0

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
    assert attach(seeded, embedder).index() == 1  # also after a restart
    assert seeded.search_service.vector_count() == total + 1


def test_keyword_results_before_indexing_then_hybrid(seeded: PaperFeed) -> None:
    attach(seeded)
    before = seeded.search("binary neural networks periodic")
    assert before.hits[0].paper.title == BIPER
    assert all(h.dense_rank is None for h in before.hits)
    seeded.index()
    after = seeded.search("binary neural networks periodic")
    assert BIPER in [h.paper.title for h in after.hits[:3]]
    assert any(h.dense_rank is not None for h in after.hits)


@pytest.mark.backends("sqlite")  # the ANN index file; PostgreSQL searches pgvector
@pytest.mark.parametrize("damage", ["delete", "corrupt", "garble_sidecar", "marker_ahead"])
def test_sync_repairs_a_broken_index(seeded: PaperFeed, damage: str) -> None:
    service = attach(seeded)
    seeded.index()
    expected = snapshot(seeded)
    path = service.index_path
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
    restarted = attach(seeded)
    assert snapshot(seeded) == expected
    assert restarted.vector_count() == seeded.store.papers.count_papers()


@pytest.mark.backends("sqlite")  # the ANN index file; PostgreSQL searches pgvector
def test_sync_catches_up_an_index_left_behind(seeded: PaperFeed, tmp_path) -> None:
    service = attach(seeded)
    seeded.index()
    path = service.index_path
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
    restarted = attach(seeded)
    assert restarted.sync() == "added 5 vectors"
    assert snapshot(seeded) == expected

    meta = json.loads(sidecar_path(path).read_text())  # marker rolled back: re-applied, same
    sidecar_path(path).write_text(json.dumps({**meta, "synced_through": 3}))
    attach(seeded)
    assert snapshot(seeded) == expected


def test_hidden_papers_never_shown(seeded: PaperFeed) -> None:
    attach(seeded)
    seeded.index()
    biper = paper_id(seeded, BIPER)
    assert biper in [h.paper.id for h in seeded.search("binary periodic").hits]
    seeded.store.papers.set_paper_hidden(biper, True)
    assert biper not in [h.paper.id for h in seeded.search("binary periodic").hits]
    assert seeded.search(BIPER).hits[0].paper.id != biper
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
    attach(seeded)
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
    attach(seeded)
    seeded.index()
    seeded.store.papers.upsert_papers(
        [Paper(id="2409.00001", title="Periodic binary neural networks", abstract="Sign to sine.")]
    )
    assert len(seeded.similar("arXiv:2409.00001v2", limit=3)) == 3


def test_arxiv_id_and_exact_title_come_first(seeded: PaperFeed) -> None:
    attach(seeded)
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
        results = seeded.search(form)
        assert [h.paper.id for h in results.hits] == ["2401.01234"], form
    missing = seeded.search("2501.00001")
    assert missing.hits == [] and "not in this collection" in (missing.message or "")
    title = "Binary and Ternary Natural Language Generation"
    assert seeded.search(title.lower()).hits[0].paper.title == title


def test_sorting_and_paging(seeded: PaperFeed) -> None:
    attach(seeded)
    seeded.index()
    by_date = seeded.search("neural networks", sort="date", limit=30).hits
    dates = [h.paper.published for h in by_date if h.paper.published]
    assert dates == sorted(dates, reverse=True) and len(dates) > 5
    by_votes = seeded.search("neural networks", sort="upvotes", limit=30).hits
    assert {h.paper.id for h in by_votes} <= {
        h.paper.id for h in seeded.search("neural networks", sort="date", limit=100).hits
    }
    first = seeded.search("neural networks", limit=10)
    second = seeded.search("neural networks", limit=10, offset=10)
    assert not {h.paper.id for h in first.hits} & {h.paper.id for h in second.hits}
    assert first.total_estimate >= 20


def test_filters_apply_to_dense_candidates(seeded: PaperFeed) -> None:
    attach(seeded)
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
    for kwargs in (
        {"category": "eess"},
        {"author": "lovelace"},
        {"date_from": dt.date(2024, 2, 1), "date_to": dt.date(2024, 2, 1)},
    ):
        results = seeded.search("binary neural networks", **kwargs)
        assert [h.paper.id for h in results.hits] == ["2402.00001"], kwargs
    excluded = seeded.search("binary neural networks -speech -periodic")
    assert all("speech" not in h.paper.title.lower() for h in excluded.hits)
    assert BIPER not in [h.paper.title for h in excluded.hits]


def test_empty_query_lists_by_date_with_filters(seeded: PaperFeed) -> None:
    attach(seeded)
    results = seeded.search("", date_from=dt.date(2023, 1, 1), limit=50)
    dates = [h.paper.published for h in results.hits]
    assert dates and all(d and d.date() >= dt.date(2023, 1, 1) for d in dates)
    assert dates == sorted(dates, reverse=True)
    assert results.total_estimate >= len(results.hits)


def test_vectors_nearest_and_background_indexing(seeded: PaperFeed) -> None:
    service = attach(seeded)
    thread = service.index_in_background()
    thread.join(timeout=60)
    assert not thread.is_alive() and service.vector_count() == seeded.store.papers.count_papers()
    biper = paper_id(seeded, BIPER)
    vectors = service.vectors_for([biper, "2401.99999"])
    assert list(vectors) == [biper]
    nearest = service.nearest(vectors[biper], 3, exclude_ids=[biper])
    assert len(nearest) == 3 and biper not in [p.id for p, _ in nearest]
    assert nearest[0][1] >= nearest[-1][1]
    query = service.embed_query("binary neural networks")
    assert np.isclose(np.linalg.norm(query), 1.0)


def test_searches_see_embeddings_another_process_wrote_without_recounting(
    seeded: PaperFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SearchService(seeded.store, seeded.settings, embedder=HashingEmbedder())
    reader = attach(seeded)
    papers = seeded.store.papers.count_papers()
    writer.index()
    assert reader.vector_count() == papers
    statuses: list[str] = []
    status = seeded.store.embeddings.embedding_status
    monkeypatch.setattr(
        seeded.store, "embedding_status", lambda model: statuses.append(model) or status(model)
    )
    monkeypatch.setattr("paperfeed.search.service.REFRESH_SECONDS", 0.0)
    reader.search("binary neural networks")
    assert statuses == []  # nothing new: one index lookup, no count over every embedding
    spiking = Paper(id="2409.99999", title="Spiking binary networks", abstract="")
    seeded.store.papers.upsert_papers([spiking])
    writer.index()
    assert reader.search("spiking binary").hits
    assert statuses and reader.vector_count() == papers + 1
