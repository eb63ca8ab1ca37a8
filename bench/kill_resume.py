"""kill -9 during a large snapshot import, then a re-run: the store ends with exactly the papers
the file holds. Writes bench/results/kill_resume.json.

    python bench/kill_resume.py FILE [--kill-after 60]

FILE comes from bench/make_snapshot.py, whose FILE.meta.json gives the distinct ids expected.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def ingest(data_dir: Path, snapshot: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "paperfeed", "--data-dir", str(data_dir)]
    command += ["ingest", "snapshot", str(snapshot)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def query(db: Path, sql: str) -> object:
    with sqlite3.connect(db, timeout=60) as conn:
        return conn.execute(sql).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--kill-after", type=float, default=60.0, help="seconds into the import")
    args = parser.parse_args()
    meta_path = args.file.with_name(args.file.name.split(".")[0] + ".meta.json")
    expected = json.loads(meta_path.read_text())["distinct_ids"]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        db = data_dir / "paperfeed.db"
        first = ingest(data_dir, args.file)
        time.sleep(args.kill_after)
        if first.poll() is not None:
            sys.exit("the import ended before the kill: use a smaller --kill-after")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        at_kill = query(db, "SELECT count(*) FROM papers")
        started = time.perf_counter()
        second = ingest(data_dir, args.file)
        out, _ = second.communicate()
        result = {
            "file": str(args.file),
            "expected_papers": expected,
            "papers_at_kill": at_kill,
            "rerun_seconds": round(time.perf_counter() - started, 1),
            "rerun_exit_code": second.returncode,
            "rerun_summary": out.decode().strip().splitlines()[-1:],
            "papers_after_rerun": query(db, "SELECT count(*) FROM papers"),
            "integrity_check": query(db, "PRAGMA integrity_check"),
            "keyword_indexed": query(db, "SELECT indexed_through FROM fts_progress")
            == query(db, "SELECT max(key) FROM papers"),
        }
    result["ok"] = result["papers_after_rerun"] == expected and result["integrity_check"] == "ok"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kill_resume.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
