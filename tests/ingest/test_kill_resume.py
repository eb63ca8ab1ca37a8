"""A snapshot import killed with SIGKILL half-way leaves a consistent store a re-run completes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from paperfeed.store import open_store
from tests.support.snapshots import paper_indexes, write_snapshot


def ingest(data_dir: Path, snapshot: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "paperfeed",
        "--data-dir",
        str(data_dir),
        "ingest",
        "snapshot",
        str(snapshot),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def count_papers(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_kill_9_mid_import_then_rerun_gives_exactly_the_right_papers(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    expected = write_snapshot(snapshot, 40_000)
    data_dir = tmp_path / "data"
    db = data_dir / "paperfeed.db"

    open_store(f"sqlite:///{tmp_path / 'fresh.db'}").close()
    all_indexes = paper_indexes(tmp_path / "fresh.db")

    first = ingest(data_dir, snapshot)
    deadline = time.monotonic() + 300
    while count_papers(db) < 12_000 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, (
        "the import finished before it could be killed: make the file larger"
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    killed_at = count_papers(db)
    assert 0 < killed_at < expected
    assert len(paper_indexes(db)) < len(all_indexes), "the bulk load defers the indexes"
    open_store(f"sqlite:///{db}").close()
    assert paper_indexes(db) == all_indexes, "opening the store builds them"

    second = ingest(data_dir, snapshot)
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 0, out
    assert b"resuming" in out or b"read" in out

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM papers").fetchone()[0] == expected
        assert (
            conn.execute("SELECT count(*) FROM papers WHERE version = 3").fetchone()[0]
            == 40_000 // 50
        )
        fts = conn.execute(
            "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'variant'"
        ).fetchone()[0]
        assert fts == expected
        saved = conn.execute("SELECT count(*) FROM ingest_state").fetchone()[0]
        assert saved == 0, "a finished import clears its resume position"
    assert paper_indexes(db) == all_indexes
