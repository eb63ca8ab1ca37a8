"""PostgreSQL's keyword search: a tantivy index per node kept in step through the change log."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.files import read_jsonl
from paperfeed.query import parse_query
from paperfeed.store.postgres import PostgresStore
from paperfeed.store.sqlite import SqliteStore
from paperfeed.store.tantivy_keyword import SHARDS
from tests.support import pg
from tests.support.factories import bare_paper
from tests.support.paths import DATA

pytestmark = pytest.mark.skipif(not pg.available(), reason="needs the pgserver binaries")

TITLES = {
    "2401.00001": "Gradient descent in theory and practice",
    "2401.00002": "A theory of mind for language models",
    "2401.00003": "Graph neural networks for molecules",
}


@pytest.fixture
def url(pg_server: pg.PostgresServer) -> Iterator[str]:
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


def open_node(url: str, directory: Path) -> PostgresStore:
    return PostgresStore.open(url, keyword_index_dir=directory)


@pytest.fixture
def node(url: str, tmp_path: Path) -> Iterator[PostgresStore]:
    store = open_node(url, tmp_path / "node1")
    store.papers.upsert_papers([bare_paper(i, title) for i, title in TITLES.items()])
    yield store
    store.close()


def ids(store: PostgresStore, text: str) -> list[str]:
    keys = [key for key, _ in store.papers.ranking.search(parse_query(text), 50)]
    return [p.id for p in store.papers.papers_by_keys(keys)]


def documents(store: PostgresStore) -> int:
    for shard in store.papers.ranking.shards:
        shard.reload()
    return sum(shard.searcher().num_docs for shard in store.papers.ranking.shards)


def test_added_changed_and_deleted_papers_follow_after_catch_up(node: PostgresStore) -> None:
    assert not node.papers.ranking.built()
    assert node.papers.pending_keyword_rows() == 3
    assert node.papers.catch_up_keyword_index() == 3
    assert node.papers.pending_keyword_rows() == 0
    assert ids(node, "gradient") == ["2401.00001"]

    node.papers.upsert_papers(
        [
            bare_paper("2401.00001", "Stochastic optimisation with momentum", version=2),
            bare_paper("2401.00004", "Diffusion models for proteins"),
        ]
    )
    with node.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM papers WHERE id = '2401.00003'"))
    assert node.papers.pending_keyword_rows() == 3
    node.papers.catch_up_keyword_index()
    assert ids(node, "gradient") == []
    assert ids(node, "momentum") == ["2401.00001"]
    assert ids(node, "diffusion proteins") == ["2401.00004"]
    assert ids(node, "graph molecules") == []
    assert documents(node) == 3


def test_a_fresh_node_answers_from_postgresql_while_it_builds(node: PostgresStore) -> None:
    query = parse_query("graph molecules")
    first = node.papers.keyword_search(query, 10)  # tsvector; the build starts behind it
    assert [p.id for p in node.papers.papers_by_keys([k for k, _ in first])] == ["2401.00003"]
    node.papers.ranking.close()  # waits for the background build
    assert node.papers.ranking.built()
    assert node.papers.keyword_search(query, 10)[0][0] == first[0][0]


def test_two_nodes_catch_up_from_one_log(node: PostgresStore, url: str, tmp_path: Path) -> None:
    other = open_node(url, tmp_path / "node2")
    try:
        for store in (node, other):
            store.papers.catch_up_keyword_index()
        node.papers.upsert_papers([bare_paper("2401.00005", "Sparse attention kernels")])
        with node.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM papers WHERE id = '2401.00002'"))
        for store in (node, other):
            assert store.papers.catch_up_keyword_index() == 2
            assert ids(store, "sparse attention") == ["2401.00005"]
            assert ids(store, "mind") == []
            assert documents(store) == 3
        assert other.papers.ranking.path != node.papers.ranking.path
    finally:
        other.close()


def end_abandoned_transactions(store: PostgresStore) -> None:
    """End the transactions of clients that are gone (a test's kill -9 leaves its backend open
    for a while): they hold every snapshot's xmin back, and a node whose snapshot reaches back
    to pruned log rows rebuilds, as it must when it cannot tell what it missed."""
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )


def test_a_node_behind_a_pruned_log_rebuilds(node: PostgresStore, url: str, tmp_path: Path) -> None:
    end_abandoned_transactions(node)
    behind = open_node(url, tmp_path / "node2")
    try:
        for store in (node, behind):
            store.papers.catch_up_keyword_index()
        node.papers.upsert_papers([bare_paper("2401.00001", "Renamed in the meantime", version=2)])
        node.papers.catch_up_keyword_index()
        assert node.papers.ranking.prune_log(older_than=dt.timedelta(0)) >= 1
        assert node.papers.catch_up_keyword_index() == 0  # its position is past the pruned rows
        assert behind.papers.catch_up_keyword_index() == 3  # every paper indexed again
        assert ids(behind, "renamed meantime") == ["2401.00001"]
        assert documents(behind) == 3
    finally:
        behind.close()


KILLED_CATCH_UP = """
import os, signal, sys
from pathlib import Path
from paperfeed.store import tantivy_keyword
from paperfeed.store.postgres import PostgresStore
tantivy_keyword.BATCH = 2  # a commit every two papers
store = PostgresStore.open(sys.argv[1], keyword_index_dir=Path(sys.argv[2]))
calls = []
def progress(count):
    calls.append(count)
    if len(calls) == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)
store.papers.catch_up_keyword_index(on_progress=progress)
"""


def kill_during_catch_up(url: str, directory: Path, at_call: int) -> None:
    script = textwrap.dedent(KILLED_CATCH_UP)
    done = subprocess.run(
        [sys.executable, "-c", script, url, str(directory), str(at_call)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()


def test_a_kill_during_catch_up_repeats_work_without_loss_or_duplicates(
    node: PostgresStore, url: str, tmp_path: Path
) -> None:
    more = {f"2402.{n:05d}": f"Paper number {n} about topic{n}" for n in range(1, 8)}
    node.papers.upsert_papers([bare_paper(i, title) for i, title in more.items()])
    directory = tmp_path / "killed"
    kill_during_catch_up(url, directory, at_call=3)  # building: after two commits
    finished = open_node(url, directory)
    assert finished.papers.catch_up_keyword_index() == 6  # the papers not committed
    finished.close()
    node.papers.upsert_papers([bare_paper("2402.00001", "Retitled paper", version=2)])
    node.papers.upsert_papers([bare_paper("2402.00008", "Paper number 8 about topic8")])
    kill_during_catch_up(url, directory, at_call=1)  # applying the log, before its commit
    resumed = open_node(url, directory)
    try:
        resumed.papers.catch_up_keyword_index()
        assert documents(resumed) == 11
        for n in range(2, 9):
            assert ids(resumed, f"topic{n}") == [f"2402.{n:05d}"]
        assert ids(resumed, "retitled") == ["2402.00001"]
        assert ids(resumed, "topic1") == []
    finally:
        resumed.close()


def test_both_backends_rank_alike(node: PostgresStore, tmp_path: Path) -> None:
    records = [record.paper for record in read_jsonl(DATA / "seed_papers.jsonl")]
    lite = SqliteStore.open(f"sqlite:///{tmp_path / 'paperfeed.db'}")
    try:
        with node.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM papers"))
        for store in (lite, node):
            store.papers.upsert_papers(records)
            store.papers.catch_up_keyword_index()
        assert documents(node) == len(records) > 100
        for text in ("binary neural networks periodic", "self-supervised learning", "diffusion"):
            ranked = [
                [(p.id, round(s, 3)) for p, s in zip(*ranked_papers(store, text), strict=True)]
                for store in (lite, node)
            ]
            assert ranked[0] == ranked[1]
            assert len(ranked[0]) > 10
    finally:
        lite.close()


def ranked_papers(store: SqliteStore | PostgresStore, text: str) -> tuple[list, list[float]]:
    hits = store.papers.keyword_search(parse_query(text), 20)
    by_key = store.papers.papers_by_key([key for key, _ in hits])
    return [by_key[key] for key, _ in hits], [score for _, score in hits]


def test_the_index_lives_in_a_folder_of_this_database(node: PostgresStore, tmp_path: Path) -> None:
    node.papers.catch_up_keyword_index()
    folder = node.papers.ranking.path
    assert folder is not None and folder.parent == tmp_path / "node1"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == [str(n) for n in range(SHARDS)]


def test_a_feed_keeps_its_index_where_its_settings_say(url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    with PaperFeed(settings.with_overrides(keyword_index_dir=tmp_path / "keywords")) as feed:
        feed.store.papers.upsert_papers([bare_paper(i, title) for i, title in TITLES.items()])
        assert feed.catch_up_keyword_index() == 3
        folder = feed.store.papers.ranking.path
    assert folder is not None and folder.parent == tmp_path / "keywords"
