"""The paper store: idempotent upserts, version merges, lookups."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from paperfeed.errors import NotFound
from paperfeed.store import SqlStore
from paperfeed.store.schema import papers
from tests.support.factories import make_paper


@pytest.fixture
def store(feed) -> SqlStore:
    return feed.store


def test_reimporting_the_same_records_changes_nothing(store: SqlStore) -> None:
    papers = [make_paper("2401.00001"), make_paper("2401.00002", title="Another")]
    first = store.papers.upsert_papers(papers)
    second = store.papers.upsert_papers(papers)
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 2)
    assert store.papers.count_papers() == 2


def test_a_newer_version_replaces_the_older_one(store: SqlStore) -> None:
    store.papers.upsert_papers([make_paper(version=1)])
    counts = store.papers.upsert_papers(
        [make_paper(version=2, title="Revised title", source="oai-pmh")]
    )
    paper = store.papers.get_paper("2401.00001")
    assert counts.updated == 1
    assert (paper.version, paper.title) == (2, "Revised title")
    assert paper.source_of("title") == "oai-pmh"
    assert paper.source_of("authors") == "test"
    assert paper.authors == ["Ada Lovelace", "Alan Turing"]


def test_an_older_version_only_fills_gaps(store: SqlStore) -> None:
    store.papers.upsert_papers([make_paper(version=3, title="Latest", doi=None)])
    store.papers.upsert_papers([make_paper(version=1, title="First draft", doi="10.1/xyz")])
    paper = store.papers.get_paper("2401.00001")
    assert (paper.version, paper.title, paper.doi) == (3, "Latest", "10.1/xyz")


def test_a_record_without_version_never_overrides_arxiv_text(store: SqlStore) -> None:
    store.papers.upsert_papers([make_paper(version=2)])
    store.papers.upsert_papers(
        [make_paper(version=None, title="HF title", comments="Project page")]
    )
    paper = store.papers.get_paper("2401.00001")
    assert paper.title == "Binary networks with periodic activations"
    assert paper.comments == "Project page"


def test_published_keeps_the_earliest_date(store: SqlStore) -> None:
    store.papers.upsert_papers([make_paper(published=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))])
    store.papers.upsert_papers(
        [make_paper(version=2, published=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))]
    )
    assert store.papers.get_paper("2401.00001").published == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_duplicates_within_one_batch_are_merged(store: SqlStore) -> None:
    counts = store.papers.upsert_papers([make_paper(version=1), make_paper(version=2, title="v2")])
    assert counts.new == 1
    assert store.papers.get_paper("2401.00001").title == "v2"


def test_lookups(store: SqlStore) -> None:
    store.papers.upsert_papers(
        [make_paper("2401.00001"), make_paper("hep-th/9901001", title="Old style")]
    )
    assert [p.id for p in store.papers.get_papers(["hep-th/9901001", "missing", "2401.00001"])] == [
        "hep-th/9901001",
        "2401.00001",
    ]
    keys = store.papers.paper_keys(["2401.00001", "hep-th/9901001"])
    assert store.papers.key_by_title("old STYLE") == keys["hep-th/9901001"]
    assert store.papers.papers_by_key([keys["2401.00001"], -1]) == {
        keys["2401.00001"]: store.papers.get_paper("2401.00001")
    }
    assert [p.id for p in store.papers.papers_by_keys([keys["hep-th/9901001"]])] == [
        "hep-th/9901001"
    ]
    with pytest.raises(NotFound):
        store.papers.get_paper("2501.99999")
    assert store.papers.find_paper("2501.99999") is None


def test_stats_count_distinct_authors(store: SqlStore) -> None:
    store.papers.upsert_papers(
        [
            make_paper("2401.00001"),
            make_paper("2401.00002", authors=["alan turing", "Grace Hopper"]),
        ]
    )
    stats = store.stats()
    assert stats["papers"] == 2
    assert stats["authors"] == 3


def test_bulk_imported_dates_compare_like_any_other(store: SqlStore) -> None:
    midnight = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    store.papers.upsert_papers([make_paper(published=midnight)])
    with store.engine.connect() as conn:
        found = conn.execute(
            sa.select(papers.c.id).where(papers.c.published == midnight.replace(tzinfo=None))
        ).scalars()
        assert list(found) == ["2401.00001"]
