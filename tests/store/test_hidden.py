"""Hidden papers are filtered in the store's own queries: whatever the store lists for readers
never holds a hidden paper (or a hidden submission), while lookups by id or key still return
them for moderators."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from paperfeed.query import parse_query
from paperfeed.store import SqlStore
from paperfeed.store.sqlite import SqliteStore
from tests.support.factories import DAY, NOON, make_paper, make_submission

IDS = ["2401.00001", "2401.00002", "2401.00003", "2401.00004"]
SHOWN, HIDDEN, HIDDEN_SUBMISSION, LATE = IDS
PUBLISHED = dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)


@pytest.fixture
def store(feed) -> SqlStore:
    store: SqlStore = feed.store
    store.papers.upsert_papers(
        [
            make_paper(SHOWN, title="Sparse attention for long documents"),
            make_paper(HIDDEN, title="Sparse attention spam, hidden"),
            make_paper(HIDDEN_SUBMISSION, title="Sparse attention whose submission is hidden"),
            make_paper(LATE, title="Sparse attention, hidden and submitted last"),
        ]
    )
    store.papers.catch_up_keyword_index()
    store.community.save_submissions(
        [
            make_submission(SHOWN, imported_upvotes=1, source="hf-daily"),
            make_submission(HIDDEN, imported_upvotes=9, source="hf-daily"),
            make_submission(HIDDEN_SUBMISSION, imported_upvotes=5, source="hf-daily"),
            make_submission(LATE, DAY + dt.timedelta(days=2), submitted_at=NOON, source="hf-daily"),
        ]
    )
    store.papers.set_paper_hidden(HIDDEN, True)
    store.papers.set_paper_hidden(LATE, True)
    store.community.set_submission_hidden(HIDDEN_SUBMISSION, True)
    return store


def keys(store: SqlStore) -> dict[str, int]:
    return store.papers.paper_keys(IDS)


def test_the_feed_lists_only_visible_submissions_of_visible_papers(store: SqlStore) -> None:
    assert [i.paper.id for i in store.community.listing(DAY, DAY)] == [SHOWN]
    assert [i.paper.id for i in store.community.listing(dt.date.min, dt.date.max)] == [SHOWN]
    everything = store.community.listing(DAY, DAY, include_hidden=True)
    assert {i.paper.id for i in everything} == {SHOWN, HIDDEN, HIDDEN_SUBMISSION}
    since = store.community.submissions_since(NOON - dt.timedelta(days=1))
    assert [i.paper.id for i in since] == [SHOWN]


def test_days_with_only_hidden_submissions_are_not_pointed_to(store: SqlStore) -> None:
    assert store.community.latest_day() == DAY
    assert store.community.adjacent_days(DAY) == (None, None)
    assert store.community.adjacent_days(DAY + dt.timedelta(days=5)) == (DAY, None)
    store.papers.set_paper_hidden(LATE, False)
    assert store.community.latest_day() == DAY + dt.timedelta(days=2)
    assert store.community.adjacent_days(DAY) == (None, DAY + dt.timedelta(days=2))


def test_keyword_search_and_filters_never_return_a_hidden_paper(store: SqlStore) -> None:
    key = keys(store)
    visible = {key[SHOWN], key[HIDDEN_SUBMISSION]}  # a hidden submission hides no paper
    query = parse_query("sparse attention")
    assert {k for k, _ in store.papers.keyword_search(query)} == visible
    assert store.papers.filter_keys(list(key.values()), query) == visible
    assert store.papers.filter_keys(list(key.values()), parse_query('"sparse attention"')) == (
        visible
    )
    listed, total = store.papers.list_keys(parse_query("", category="cs.LG"), 10)
    assert (set(listed), total) == (visible, 2)
    assert set(store.papers.sort_keys(list(key.values()), "date")) == visible
    assert set(store.papers.sort_keys(list(key.values()), "upvotes")) == visible
    published = store.papers.papers_published_between(PUBLISHED.date(), PUBLISHED.date())
    assert {p.id for p in published} == {SHOWN, HIDDEN_SUBMISSION}


def test_showing_a_paper_again_brings_it_back_at_once(store: SqlStore) -> None:
    key = keys(store)
    query = parse_query("spam")
    assert store.papers.keyword_search(query) == []
    assert store.papers.filter_keys([key[HIDDEN]], query) == set()
    store.papers.set_paper_hidden(HIDDEN, False)
    assert [k for k, _ in store.papers.keyword_search(query)] == [key[HIDDEN]]
    assert store.papers.filter_keys([key[HIDDEN]], query) == {key[HIDDEN]}
    store.papers.set_paper_hidden(HIDDEN, True)  # the same Query object, hidden again
    assert store.papers.keyword_search(query) == []
    assert store.papers.filter_keys([key[HIDDEN]], query) == set()


def test_lookups_still_return_hidden_papers(store: SqlStore) -> None:
    key = keys(store)
    assert store.papers.get_paper(HIDDEN).hidden
    assert store.papers.find_paper(HIDDEN) is not None
    assert [p.id for p in store.papers.get_papers([HIDDEN, SHOWN])] == [HIDDEN, SHOWN]
    assert store.papers.papers_by_key([key[HIDDEN]])[key[HIDDEN]].hidden
    assert [p.id for p in store.papers.papers_by_keys([key[LATE]])] == [LATE]
    submission = store.community.get_submission(HIDDEN_SUBMISSION)
    assert submission is not None and submission.hidden


def test_nearest_neighbours_skip_hidden_papers(store: SqlStore, monkeypatch) -> None:
    key = keys(store)
    rng = np.random.default_rng(11)
    base = rng.normal(size=16).astype(np.float32)
    items = [(key[i], "h", base + 0.01 * n) for n, i in enumerate(IDS)]
    store.embeddings.save_embeddings("m", items)
    found = store.embeddings.nearest_keys("m", base, 10)
    if not store.vectors_in_store:
        assert found is None  # searched in the ANN index file; filter_keys drops hidden ones
        return
    assert found is not None
    assert {k for k, _ in found} == {key[SHOWN], key[HIDDEN_SUBMISSION]}
    skipped = store.embeddings.nearest_keys("m", base, 10, exclude={key[SHOWN]})
    assert [k for k, _ in skipped or []] == [key[HIDDEN_SUBMISSION]]
    monkeypatch.setattr("paperfeed.store.postgres_embeddings.EXACT_BELOW", 2)  # through HNSW
    store.embeddings.rebuild_vector_indexes()
    approximate = store.embeddings.nearest_keys("m", base, 10)
    assert approximate is not None
    assert {k for k, _ in approximate} == {key[SHOWN], key[HIDDEN_SUBMISSION]}


@pytest.mark.backends("sqlite")
def test_one_sqlite_search_reads_the_hidden_keys_once(store: SqlStore, monkeypatch) -> None:
    assert isinstance(store, SqliteStore)
    hidden_keys = store.papers.hidden_keys
    reads: list[frozenset[int]] = []
    read = hidden_keys.read

    def counted() -> frozenset[int]:
        reads.append(read())
        return reads[-1]

    monkeypatch.setattr(hidden_keys, "read", counted)
    key = keys(store)
    query = parse_query("sparse attention")
    store.papers.keyword_search(query, limit=1)
    for _ in range(3):  # as a search widening its nearest neighbours
        store.papers.filter_keys(list(key.values()), query)
    assert reads == [frozenset({key[HIDDEN], key[LATE]})]
    store.papers.filter_keys([key[SHOWN]], parse_query("sparse"))  # another search
    assert len(reads) == 2
    store.papers.filter_keys([], parse_query("sparse"))  # nothing to check: nothing read
    assert len(reads) == 2
