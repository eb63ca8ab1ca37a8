"""What only the PostgreSQL backend has: in-place migrations, pgvector neighbours, advisory
locks, and the resumable copy from SQLite (`paperfeed migrate`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.errors import Conflict
from paperfeed.models import Paper, Preferences
from paperfeed.query import parse_query
from paperfeed.store import job_queue
from paperfeed.store.copy import CopyError, copy_store
from paperfeed.store.postgres import POSTGRES_MIGRATIONS, PostgresStore, driver_url
from paperfeed.store.sqlite import SqliteStore
from tests.support import pg
from tests.support.factories import DAY, make_paper, make_submission

pytestmark = pytest.mark.skipif(not pg.available(), reason="needs the pgserver binaries")


@pytest.fixture
def empty_url(pg_server: pg.PostgresServer) -> Iterator[str]:
    url = pg_server.create_database(migrated=False)
    yield url
    pg_server.drop_database(url)


@pytest.fixture
def pg_store(empty_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore.open(empty_url)
    yield store
    store.close()


def test_urls_are_routed_to_psycopg() -> None:
    assert driver_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert driver_url("postgresql+psycopg2://u@h:5/db") == "postgresql+psycopg://u@h:5/db"
    with pytest.raises(ValueError):
        driver_url("sqlite:///x.db")


def test_an_old_database_is_upgraded_in_place(empty_url: str, monkeypatch) -> None:
    monkeypatch.setattr(PostgresStore, "migrations", POSTGRES_MIGRATIONS[:1])
    old = PostgresStore.open(empty_url)
    old.papers.upsert_papers([make_paper("2401.00001", title="Periodic binary networks")])
    old.close()

    monkeypatch.setattr(PostgresStore, "migrations", POSTGRES_MIGRATIONS)
    upgraded = PostgresStore.open(empty_url)
    try:
        hits = upgraded.papers.keyword_search(parse_query("periodic"))  # generated for old rows too
        assert [p.title for p in upgraded.papers.papers_by_keys([k for k, _ in hits])] == [
            "Periodic binary networks"
        ]
        with upgraded.engine.connect() as conn:
            versions = conn.exec_driver_sql("SELECT version FROM schema_migrations").scalars()
            assert sorted(versions) == [m.version for m in POSTGRES_MIGRATIONS]
        indexes = {i["name"] for i in sa.inspect(upgraded.engine).get_indexes("papers")}
        assert "ix_papers_doi_lower" in indexes
        assert upgraded.migrate() == POSTGRES_MIGRATIONS[-1].version
    finally:
        upgraded.close()


def test_nearest_keys_exact_and_through_hnsw(pg_store: PostgresStore, monkeypatch) -> None:
    monkeypatch.setattr("paperfeed.store.postgres_embeddings.EXACT_BELOW", 1000)
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pg_store.papers.upsert_papers([make_paper(f"2401.{i:05d}") for i in range(300)])
    keys = pg_store.papers.paper_keys([f"2401.{i:05d}" for i in range(300)])
    ordered = [keys[f"2401.{i:05d}"] for i in range(300)]
    pg_store.embeddings.save_embeddings(
        "m", [(k, "h", v) for k, v in zip(ordered, vectors, strict=True)]
    )
    expected = np.argsort(-(vectors @ vectors[0]))[:10]

    exact = pg_store.embeddings.nearest_keys("m", vectors[0], 10)
    assert [k for k, _ in exact] == [ordered[i] for i in expected]
    assert exact[0][1] == pytest.approx(1.0, abs=1e-5)
    assert ordered[0] not in [
        k for k, _ in pg_store.embeddings.nearest_keys("m", vectors[0], 5, {ordered[0]})
    ]
    assert pg_store.embeddings.nearest_keys("other-model", vectors[0], 5) == []

    monkeypatch.setattr(
        "paperfeed.store.postgres_embeddings.EXACT_BELOW", 10
    )  # enough for an index now
    pg_store.embeddings.save_embeddings("m", [(ordered[0], "h", vectors[0])])
    approximate = pg_store.embeddings.nearest_keys("m", vectors[0], 10)
    assert approximate[0][0] == ordered[0]
    assert len(set(k for k, _ in approximate) & {ordered[i] for i in expected}) >= 8
    with pg_store.engine.connect() as conn:
        names = conn.exec_driver_sql("SELECT indexname FROM pg_indexes").scalars().all()
    assert "ix_embeddings_hnsw_16" in names


def test_a_first_load_builds_the_hnsw_index_once_at_the_end(
    pg_store: PostgresStore, monkeypatch
) -> None:
    monkeypatch.setattr("paperfeed.store.postgres_embeddings.EXACT_BELOW", 10)
    rng = np.random.default_rng(3)
    pg_store.papers.upsert_papers([make_paper(f"2402.{i:05d}") for i in range(60)])
    keys = list(pg_store.papers.paper_keys([f"2402.{i:05d}" for i in range(60)]).values())

    def index_names() -> list[str]:
        with pg_store.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT indexname FROM pg_indexes").scalars().all()

    with pg_store.embeddings.deferred_vector_indexes():
        for start in range(0, 60, 20):  # three batches, each past the exact-search size
            batch = [
                (k, "h", rng.normal(size=8).astype(np.float32)) for k in keys[start : start + 20]
            ]
            pg_store.embeddings.save_embeddings("m", batch)
            assert "ix_embeddings_hnsw_8" not in index_names()
        assert (
            len(pg_store.embeddings.nearest_keys("m", rng.normal(size=8), 5)) == 5
        )  # exact meanwhile
    assert "ix_embeddings_hnsw_8" in index_names()


def test_advisory_lock_admits_one_holder(pg_store: PostgresStore, empty_url: str) -> None:
    other = PostgresStore.open(empty_url)
    try:
        with pg_store.advisory_lock("digest") as first:
            assert first
            with other.advisory_lock("digest") as second, other.advisory_lock("else") as third:
                assert not second and third
        with other.advisory_lock("digest") as again:
            assert again
    finally:
        other.close()


def _filled_sqlite(tmp_path) -> SqliteStore:
    store = SqliteStore.open(f"sqlite:///{tmp_path / 'old.db'}")
    store.papers.upsert_papers(
        [make_paper(f"2401.{i:05d}", title=f"Self-supervised paper {i}") for i in range(25)]
    )
    store.papers.catch_up_keyword_index()
    store.community.save_submissions(
        [make_submission("2401.00003", hour=9, submitter="ak", imported_upvotes=4)]
    )
    user = store.community.create_user("alice", "hash", "alice@example.org")
    store.community.add_vote("2401.00003", user.id)
    subscriber = store.subscriptions.add_subscriber(
        "alice@example.org", Preferences(), user_id=user.id
    )
    store.subscriptions.plan_digests(DAY, [subscriber.id])
    entry = store.subscriptions.outbox(DAY)[0]
    store.subscriptions.claim_digest(entry.id, "<m@x>")
    store.subscriptions.mark_digest_sent(entry, ["2401.00003"])
    keys = store.papers.paper_keys([f"2401.{i:05d}" for i in range(25)])
    vectors = np.eye(25, 8, dtype=np.float32)[:, :8] + 0.01
    store.embeddings.save_embeddings(
        "m", [(keys[f"2401.{i:05d}"], "h", vectors[i]) for i in range(25)]
    )
    store.set_state("oai:cs", "token-42")
    return store


def test_copy_from_sqlite_resumes_and_keeps_keys(tmp_path, pg_store: PostgresStore) -> None:
    source = _filled_sqlite(tmp_path)
    stop_after = {"batches": 2}

    def interrupt(_: int) -> None:
        stop_after["batches"] -= 1
        if stop_after["batches"] == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_store(source, pg_store, batch_size=10, on_progress=interrupt)
    assert 0 < pg_store.papers.count_papers() < 25

    report = copy_store(source, pg_store, batch_size=10)
    assert report.ok
    counts = {c.table: (c.source, c.target) for c in report.counts}
    assert counts["papers"] == (25, 25) and counts["votes"] == (1, 1)
    assert counts["embeddings"] == (25, 25) and counts["digest_sent_papers"] == (1, 1)

    ids = [f"2401.{i:05d}" for i in range(25)]
    assert pg_store.papers.paper_keys(ids) == source.papers.paper_keys(ids)
    assert pg_store.papers.get_paper("2401.00003").upvotes == 5  # 4 imported + 1 vote
    assert pg_store.community.voted_papers(pg_store.community.get_user_by_username("alice").id) == {
        "2401.00003"
    }
    assert pg_store.get_state("oai:cs") == "token-42"
    assert pg_store.subscriptions.sent_papers([1], ["2401.00003"]) == {(1, "2401.00003")}
    key = pg_store.papers.paper_keys(["2401.00007"])["2401.00007"]
    assert (
        pg_store.embeddings.nearest_keys(
            "m", source.embeddings.get_embeddings("m", [key])[key][0], 1
        )[0][0]
        == key
    )
    assert len(pg_store.papers.keyword_search(parse_query("supervised"))) == 25

    pg_store.papers.upsert_papers([make_paper("2402.00001")])  # serial counters moved past the copy
    assert pg_store.papers.paper_keys(["2402.00001"])["2402.00001"] > max(
        pg_store.papers.paper_keys(ids).values()
    )
    assert pg_store.community.create_user("bob", "hash").id > 1
    assert copy_store(source, pg_store).copied["papers"] == 0  # a third run has nothing to do
    source.close()


def test_copy_refuses_a_target_with_other_data(tmp_path, pg_store: PostgresStore) -> None:
    source = _filled_sqlite(tmp_path)
    pg_store.papers.upsert_papers([Paper(id="local:mine", title="Mine", abstract="Already here.")])
    with pytest.raises(CopyError):
        copy_store(source, pg_store)
    source.close()


def test_migrate_command_prints_counts(tmp_path, empty_url: str) -> None:
    _filled_sqlite(tmp_path).close()
    args = ["migrate", "--from", f"sqlite:///{tmp_path / 'old.db'}", "--to", empty_url]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "all rows copied" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("papers "))
    assert line.split()[1:3] == ["25", "25"]
    engine = sa.create_engine(driver_url(empty_url))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM embeddings").scalar_one() == 25
    engine.dispose()


def test_a_vote_racing_an_identical_one_counts_once(pg_store: PostgresStore) -> None:
    pg_store.papers.upsert_papers([make_paper("2401.00001")])
    user = pg_store.community.create_user("alice", "hash")
    result: list[bool] = []
    with pg_store.engine.connect() as other:  # another worker, mid-transaction
        other.exec_driver_sql(
            "INSERT INTO votes (paper_id, user_id, created_at) VALUES ('2401.00001', %s, now())",
            (user.id,),
        )
        other.exec_driver_sql("UPDATE papers SET upvotes = upvotes + 1")
        racer = threading.Thread(
            target=lambda: result.append(pg_store.community.add_vote("2401.00001", user.id))
        )
        racer.start()
        racer.join(0.5)
        assert racer.is_alive()  # waiting on the other worker's row
        other.commit()
    racer.join(10)
    assert result == [False]
    assert pg_store.papers.get_paper("2401.00001").upvotes == 1


def test_a_job_queue_schema_upgrade_that_fails_is_a_clear_error_and_changes_nothing(
    pg_store: PostgresStore, empty_url: str
) -> None:
    older = f"{job_queue.COMMENT}3.3.0"  # as if installed before procrastinate 3.4's migrations
    with pg_store.engine.begin() as conn:
        conn.execute(sa.text(f"COMMENT ON TABLE {job_queue.JOBS_TABLE} IS '{older}'"))
    pg_store.close()
    # 3.4's first step adds an enum value that this (current) schema has already
    with pytest.raises(
        Conflict, match=r"from procrastinate 3\.3\.0 to .* failed at 03\.04\.00_01_"
    ):
        PostgresStore.open(empty_url)
    engine = sa.create_engine(driver_url(empty_url))
    with engine.connect() as conn:
        comment = conn.execute(
            sa.text(f"SELECT obj_description('{job_queue.JOBS_TABLE}'::regclass, 'pg_class')")
        ).scalar()
    engine.dispose()
    assert comment == older  # rolled back: the next open tries again
