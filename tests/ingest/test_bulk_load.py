"""The bulk path of the snapshot import (parsed in second processes, bulk-loaded into SQLite)
leaves the store the usual path leaves, reports what it skipped, and stops with a clear error
when a parsing process dies."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from paperfeed.core import PaperFeed
from paperfeed.ingest.base import IngestReport, Source
from paperfeed.ingest.runner import run_ingest
from paperfeed.ingest.second_process import (
    SecondProcessDied,
    SecondProcessFailed,
    in_second_process,
)
from paperfeed.ingest.snapshot import SnapshotFile, read_snapshot, snapshot_key
from paperfeed.store.sqlite import SqliteStore
from paperfeed.store.sqlite_bulk import bulk_load_running, defer_indexes
from tests.support.snapshots import paper_indexes, write_snapshot

MALFORMED = {7: b"{not json", 130: b'{"id": "2401.99999", "title": ""}', 333: b"[1, 2]"}
# small checkpoints and batches, so that a few hundred lines cross many of both
CHECKPOINT_EVERY, BATCH_SIZE = 70, 25


def load(db: Path, source: Source, **options: object) -> IngestReport:
    store = SqliteStore.open(f"sqlite:///{db}")
    try:
        return run_ingest(store, source, batch_size=BATCH_SIZE, **options)  # type: ignore[arg-type]
    finally:
        store.close()


def table(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def papers_but_modified_at(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(papers)")]
        kept = ", ".join(c for c in columns if c != "modified_at")
        return conn.execute(f"SELECT {kept} FROM papers ORDER BY key").fetchall()


def test_bulk_path_leaves_the_store_and_report_of_the_usual_path(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, 600, malformed=MALFORMED)
    head = tmp_path / "head.jsonl"
    head.write_bytes(b"".join(snapshot.read_bytes().splitlines(keepends=True)[:120]))
    usual, bulk = tmp_path / "usual.db", tmp_path / "bulk.db"
    for db in (usual, bulk):  # papers already stored: the load merges into some
        load(db, read_snapshot(head))
    version_before = table(bulk, "SELECT version FROM content_version")

    usual_report = load(usual, read_snapshot(snapshot, checkpoint_every=CHECKPOINT_EVERY))
    bulk_report = load(bulk, SnapshotFile(snapshot, checkpoint_every=CHECKPOINT_EVERY))

    assert bulk_report.as_dict() == usual_report.as_dict()
    assert (bulk_report.new, bulk_report.updated, bulk_report.unchanged) == (
        usual_report.new,
        usual_report.updated,
        usual_report.unchanged,
    )
    assert bulk_report.unchanged > 0 and bulk_report.updated > 0
    assert papers_but_modified_at(bulk) == papers_but_modified_at(usual)
    for sql in ("SELECT * FROM keyword_changes", "SELECT key, value FROM ingest_state"):
        assert table(bulk, sql) == table(usual, sql)
    assert paper_indexes(bulk) == paper_indexes(usual)
    assert table(bulk, "SELECT version FROM content_version") > version_before


def test_a_snapshot_file_imports_the_same_papers_on_every_backend(
    feed: PaperFeed, tmp_path: Path
) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    expected = write_snapshot(snapshot, 400, malformed=MALFORMED)

    report = feed.ingest(SnapshotFile(snapshot, checkpoint_every=CHECKPOINT_EVERY))

    assert (report.read, report.new, len(report.skipped)) == (400, expected, len(MALFORMED))
    assert feed.count_papers() == expected
    assert feed.saved_position(snapshot_key(snapshot)) is None


def test_malformed_lines_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    expected = write_snapshot(snapshot, 400, malformed=MALFORMED)

    report = load(tmp_path / "bulk.db", SnapshotFile(snapshot, checkpoint_every=CHECKPOINT_EVERY))

    skipped = {s.location: s.reason for s in report.skipped}
    assert set(skipped) == {f"{snapshot}:{n}" for n in MALFORMED}
    assert skipped[f"{snapshot}:7"].startswith("invalid JSON")
    assert skipped[f"{snapshot}:130"] == "missing title"
    assert skipped[f"{snapshot}:333"] == "not a JSON object"
    assert table(tmp_path / "bulk.db", "SELECT count(*) FROM papers") == [(expected,)]


def kill_parsing_processes() -> None:
    for child in psutil.Process().children():
        if "paperfeed.ingest.second_process" in child.cmdline():
            os.kill(child.pid, signal.SIGKILL)


def test_a_parsing_process_that_dies_is_a_clear_error_and_the_rerun_completes(
    tmp_path: Path,
) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    expected = write_snapshot(snapshot, 3000)
    db = tmp_path / "bulk.db"
    source = SnapshotFile(snapshot, checkpoint_every=500)
    SqliteStore.open(f"sqlite:///{db}").close()
    indexes = paper_indexes(db)
    progress: list[int] = []

    def kill_after_first_batch(done: int) -> None:
        progress.append(done)
        if len(progress) == 1:
            kill_parsing_processes()

    with ThreadPoolExecutor(1) as pool:  # a hang fails the test instead of stopping it
        killed = pool.submit(load, db, source, on_progress=kill_after_first_batch)
        with pytest.raises(SecondProcessDied, match="run it again to resume"):
            killed.result(timeout=120)

    assert paper_indexes(db) == indexes, "the deferred indexes are built after the error too"
    saved = table(db, f"SELECT value FROM ingest_state WHERE key = '{snapshot_key(snapshot)}'")
    start = int(saved[0][0]) if saved else 0
    assert start % 500 == 0, "only whole checkpoints were kept"
    load(db, SnapshotFile(snapshot, start_line=start, checkpoint_every=500))
    assert table(db, "SELECT count(*) FROM papers") == [(expected,)]
    assert table(db, "SELECT count(*) FROM ingest_state") == [(0,)]


def test_an_error_in_the_second_process_comes_back_with_its_traceback() -> None:
    with pytest.raises(SecondProcessFailed, match="TypeError: 'int' object is not iterable"):
        list(in_second_process(iter, 5))


def test_a_store_opened_during_a_bulk_load_leaves_the_deferred_indexes_to_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bulk.db"
    store = SqliteStore.open(f"sqlite:///{db}")
    indexes = paper_indexes(db)
    defer_indexes(store)
    with open(f"{db}.bulk-load", "w") as lock:  # a bulk load in another process, between commits
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert bulk_load_running(store)
        SqliteStore.open(f"sqlite:///{db}").close()  # e.g. a web server starting meanwhile
        assert set(paper_indexes(db)) < set(indexes), "still deferred: left to the load"
    assert not bulk_load_running(store)  # the load was killed: its lock went with it
    SqliteStore.open(f"sqlite:///{db}").close()
    assert paper_indexes(db) == indexes
    store.close()
