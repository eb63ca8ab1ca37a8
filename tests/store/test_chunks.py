"""Long id lists go to the database in pieces (chunks.py): the helper itself, and the store's
lookups over more ids than one piece holds."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import sqlalchemy as sa

from paperfeed.models import Preferences
from paperfeed.query import parse_query
from paperfeed.store import SqlStore
from paperfeed.store.chunks import CHUNK, chunks
from tests.support.factories import DAY, bare_paper, make_submission

MANY = CHUNK * 2 + 7  # three pieces, the last one short


def test_chunks_keep_order_and_bound_each_piece() -> None:
    values = list(range(MANY))
    pieces = list(chunks(values))
    assert [len(p) for p in pieces] == [CHUNK, CHUNK, 7]
    assert [v for piece in pieces for v in piece] == values
    assert list(chunks(iter(values), 1000)) == [values[:1000], values[1000:]]
    assert list(chunks(x for x in "abc")) == [["a", "b", "c"]]
    assert list(chunks([])) == []
    with pytest.raises(ValueError):
        list(chunks(values, 0))


def limit_sqlite_parameters(store: SqlStore) -> None:
    """Make SQLite refuse a statement with more bound parameters than a piece and a few more
    (as older builds refused past 999), so that a lookup sent in one piece fails here."""
    if store.engine.dialect.name != "sqlite":
        return

    def limit(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, CHUNK + 10)

    store.engine.dispose()  # connections opened from now on get the limit
    sa.event.listen(store.engine, "connect", limit)
    with store.engine.connect() as conn, pytest.raises(sa.exc.OperationalError):
        conn.exec_driver_sql(f"SELECT 1 WHERE 1 IN ({','.join('?' * MANY)})", tuple(range(MANY)))


def test_lookups_over_more_ids_than_one_piece(feed) -> None:
    store: SqlStore = feed.store
    limit_sqlite_parameters(store)
    ids = [f"2401.{n:05d}" for n in range(MANY)]
    store.papers.upsert_papers(bare_paper(i, f"Paper {n}", "Words.") for n, i in enumerate(ids))
    assert store.papers.upsert_papers(
        bare_paper(i, f"Paper {n}", "Words.") for n, i in enumerate(ids)
    ).unchanged == len(ids)
    store.papers.catch_up_keyword_index()
    key = store.papers.paper_keys(ids)
    assert len(key) == MANY
    keys = [key[i] for i in ids]
    assert [p.id for p in store.papers.get_papers(ids)] == ids
    assert [p.id for p in store.papers.papers_by_keys(keys)] == ids
    assert len(store.papers.papers_by_key(keys)) == MANY
    assert store.papers.filter_keys(keys, parse_query("words")) == set(keys)
    assert sorted(store.papers.sort_keys(keys, "date")) == sorted(keys)

    assert store.community.save_submissions(
        make_submission(i, hour=0, source="t") for i in ids
    ) == len(ids)
    user = store.community.create_user("ada", "hash")
    for paper_id in ids[-3:]:
        store.community.add_vote(paper_id, user.id)
    assert store.community.voted_papers(user.id, ids) == set(ids[-3:])

    vectors = np.eye(MANY, 4, dtype=np.float32)
    store.embeddings.save_embeddings("m", [(k, "h", v) for k, v in zip(keys, vectors, strict=True)])
    store.embeddings.save_embeddings(
        "m", [(k, "h2", v) for k, v in zip(keys, vectors, strict=True)]
    )
    stored = store.embeddings.get_embeddings("m", keys)
    assert len(stored) == MANY and {h for _, h in stored.values()} == {"h2"}
    assert store.embeddings.embedding_status("m") == (MANY, 2 * MANY)

    subscriber = store.subscriptions.add_subscriber("a@example.org", Preferences())
    store.subscriptions.plan_digests(DAY, [subscriber.id])
    entry = store.subscriptions.outbox(DAY)[0]
    store.subscriptions.mark_digest_sent(entry, ids)
    assert len(store.subscriptions.sent_papers([subscriber.id], ids)) == MANY
    assert (
        len(store.subscriptions.subscribers_by_ids([subscriber.id, *range(10**6, 10**6 + MANY)]))
        == 1
    )
