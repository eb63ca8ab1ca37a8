"""Submissions, votes, users and ingest state."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.errors import Conflict, NotFound
from paperfeed.store import SqlStore
from tests.support.factories import DAY, make_paper, make_submission


@pytest.fixture
def store(feed) -> SqlStore:
    feed.store.papers.upsert_papers(
        [make_paper("2401.00001"), make_paper("2401.00002", title="Second")]
    )
    return feed.store


def test_imported_submissions_carry_upvotes_and_update_them(store: SqlStore) -> None:
    sub = make_submission("2401.00001", submitter="akhaliq", imported_upvotes=12, source="hf-daily")
    assert store.community.save_submissions([sub]) == 1
    assert store.community.save_submissions([sub]) == 0
    assert store.papers.get_paper("2401.00001").upvotes == 12
    store.community.save_submissions(
        [make_submission("2401.00001", imported_upvotes=15, source="hf-daily")]
    )
    assert store.papers.get_paper("2401.00001").upvotes == 15


def test_feed_lists_a_day_by_upvotes(store: SqlStore) -> None:
    store.community.save_submissions(
        [
            make_submission("2401.00001", imported_upvotes=3, source="hf-daily"),
            make_submission("2401.00002", imported_upvotes=9, source="hf-daily"),
        ]
    )
    items = store.community.listing(DAY, DAY)
    assert [i.paper.id for i in items] == ["2401.00002", "2401.00001"]
    assert store.community.listing(DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=1)) == []
    store.community.set_submission_hidden("2401.00002", True)
    assert [i.paper.id for i in store.community.listing(DAY, DAY)] == ["2401.00001"]
    assert store.community.latest_day() == DAY
    assert store.community.adjacent_days(DAY + dt.timedelta(days=3)) == (DAY, None)


def test_one_vote_per_user_per_paper(store: SqlStore) -> None:
    user = store.community.create_user("ada", "hash", "ada@example.org")
    assert store.community.add_vote("2401.00001", user.id) is True
    assert store.community.add_vote("2401.00001", user.id) is False
    assert store.papers.get_paper("2401.00001").upvotes == 1
    assert store.community.voted_papers(user.id) == {"2401.00001"}
    assert store.community.remove_vote("2401.00001", user.id) is True
    assert store.community.remove_vote("2401.00001", user.id) is False
    assert store.papers.get_paper("2401.00001").upvotes == 0
    with pytest.raises(NotFound):
        store.community.add_vote("9999.99999", user.id)


def test_user_names_and_emails_are_unique(store: SqlStore) -> None:
    store.community.create_user("ada", "hash", "ada@example.org")
    with pytest.raises(Conflict):
        store.community.create_user("ada", "other")
    with pytest.raises(Conflict):
        store.community.create_user("ada2", "other", "ada@example.org")
    assert store.community.get_user_by_email("ADA@example.org").username == "ada"


def test_a_paper_is_submitted_once(store: SqlStore) -> None:
    store.community.submit(make_submission("2401.00001", submitter="ada"))
    with pytest.raises(Conflict, match="already submitted"):
        store.community.submit(make_submission("2401.00001", submitter="bob"))
    with pytest.raises(NotFound):
        store.community.submit(make_submission("2409.00001", submitter="bob"))


def test_ingest_state_round_trip(store: SqlStore) -> None:
    assert store.get_state("oai:x") is None
    store.set_state("oai:x", "token-1")
    store.set_state("oai:x", "token-2")
    assert store.get_state("oai:x") == "token-2"
    store.set_state("oai:x", None)
    assert store.get_state("oai:x") is None
