"""Snapshot import speed and memory: records/s into SQLite and peak RSS, written to JSON.

    python bench/ingest.py [--lines 1000000] [--file big.jsonl]

Generates the file with bench/make_snapshot.py when none is given (cached in bench/results/cache/).
The import runs in this process on one core; RSS is sampled after every batch so a leak would show
as growth between the first and last samples. The keyword (FTS5) index catch-up is timed apart.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.snapshot import read_snapshot

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


def snapshot_file(lines: int) -> Path:
    path = RESULTS / "cache" / f"snapshot_{lines}.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, str(BENCH / "make_snapshot.py"), str(path), "--lines", str(lines)],
            check=True,
        )
    return path


def run(path: Path, with_keyword_index: bool) -> dict[str, object]:
    process = psutil.Process()
    samples: list[int] = []
    done = 0

    def sample(n: int) -> None:
        nonlocal done
        done += n
        samples.append(process.memory_info().rss)

    with tempfile.TemporaryDirectory() as tmp, PaperFeed(Settings(data_dir=Path(tmp))) as feed:
        started, cpu_started = time.perf_counter(), time.process_time()
        report = feed.ingest(read_snapshot(path), on_progress=sample, index_keywords=False)
        import_seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        result: dict[str, object] = {
            "file": str(path),
            "file_mb": round(path.stat().st_size / 1e6, 1),
            "records_read": report.read,
            "papers": feed.store.papers.count_papers(),
            "skipped": len(report.skipped),
            "import_seconds": round(import_seconds, 1),
            "records_per_second": round(report.read / import_seconds),
            # CPU time of this process: the figure for "one core" when the machine is shared
            "import_cpu_seconds": round(cpu_seconds, 1),
            "records_per_cpu_second": round(report.read / cpu_seconds),
            "load_average_1min": round(os.getloadavg()[0], 1),
            "rss_mb_first_batch": round(samples[0] / 2**20, 1),
            "rss_mb_peak": round(max(samples) / 2**20, 1),
            "rss_mb_last_batch": round(samples[-1] / 2**20, 1),
            "db_mb": round(feed.settings.sqlite_path.stat().st_size / 1e6, 1),
        }
        if with_keyword_index:
            started = time.perf_counter()
            indexed = feed.store.papers.catch_up_keyword_index()
            seconds = time.perf_counter() - started
            result["keyword_index_seconds"] = round(seconds, 1)
            result["keyword_index_papers_per_second"] = round(indexed / seconds)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, help="an existing snapshot-format file")
    parser.add_argument("--keyword-index", action="store_true", help="also time the FTS5 catch-up")
    args = parser.parse_args()
    path = args.file or snapshot_file(args.lines)
    result = {"cpu_count": psutil.cpu_count(), **run(path, args.keyword_index)}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "ingest.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
