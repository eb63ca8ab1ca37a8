"""Snapshot import speed and memory, before and after the bulk path: records/s into SQLite and
peak RSS, side by side in one run, written to bench/results/ingest.json.

    python bench/ingest.py [--lines 1000000] [--file big.jsonl] [--rounds 1] [--keyword-index]

"before" is the usual path (records parsed and upserted in this process: `read_snapshot`);
"after" is the bulk path (`SnapshotFile`: parsed and encoded in a second process, bulk-loaded
with deferred indexes). Each import runs in a fresh process, the two alternating `--rounds`
times, so that neither inherits the other's memory and both see the same machine load. RSS is
sampled after every batch (this process plus the parsing process), so a leak would show as
growth between the first and last samples. Generates the file with bench/make_snapshot.py when
none is given (cached in bench/results/cache/). The keyword (FTS5) catch-up is timed apart.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Source
from paperfeed.ingest.snapshot import SnapshotFile, read_snapshot

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PATHS = {"before": read_snapshot, "after": SnapshotFile}


def snapshot_file(lines: int) -> Path:
    path = RESULTS / "cache" / f"snapshot_{lines}.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, str(BENCH / "make_snapshot.py"), str(path), "--lines", str(lines)],
            check=True,
        )
    return path


def rss_with_children(process: psutil.Process) -> int:
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(path: Path, source: Source, with_keyword_index: bool) -> dict[str, object]:
    process = psutil.Process()
    samples: list[int] = []

    def sample(_: int) -> None:
        samples.append(rss_with_children(process))

    with tempfile.TemporaryDirectory() as tmp, PaperFeed(Settings(data_dir=Path(tmp))) as feed:
        feed.count_papers()  # the store is created before the clock starts
        started, cpu_started = time.perf_counter(), cpu_seconds()
        report = feed.ingest(source, on_progress=sample, index_keywords=False)
        import_seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_started
        result: dict[str, object] = {
            "file": str(path),
            "file_mb": round(path.stat().st_size / 1e6, 1),
            "records_read": report.read,
            "report": report.summary(),
            "papers": feed.count_papers(),
            "import_seconds": round(import_seconds, 1),
            "records_per_second": round(report.read / import_seconds),
            # CPU time of the import's processes: the figure for the work, when the machine
            # is shared (wall time then depends on what else runs)
            "import_cpu_seconds": round(cpu, 1),
            "records_per_cpu_second": round(report.read / cpu),
            "load_average_1min": round(os.getloadavg()[0], 1),
            "rss_mb_first_batch": round(samples[0] / 2**20, 1),
            "rss_mb_peak": round(max(samples) / 2**20, 1),
            "rss_mb_last_batch": round(samples[-1] / 2**20, 1),
            "db_mb": round(feed.settings.sqlite_path.stat().st_size / 1e6, 1),
        }
        if with_keyword_index:
            started = time.perf_counter()
            indexed = feed.catch_up_keyword_index()
            seconds = time.perf_counter() - started
            result["keyword_index_seconds"] = round(seconds, 1)
            result["keyword_index_papers_per_second"] = round(indexed / seconds)
    return result


def run_in_fresh_process(path_name: str, file: Path, with_keyword_index: bool) -> dict:
    command = [sys.executable, __file__, "--file", str(file), "--only", path_name]
    if with_keyword_index:
        command.append("--keyword-index")
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, help="an existing snapshot-format file")
    parser.add_argument("--rounds", type=int, default=1, help="before/after pairs to run")
    parser.add_argument("--keyword-index", action="store_true", help="also time the FTS5 catch-up")
    parser.add_argument("--only", choices=sorted(PATHS), help="one import in this process")
    args = parser.parse_args()
    path = args.file or snapshot_file(args.lines)
    if args.only:
        source = PATHS[args.only](path)
        print(json.dumps(measure(path, source, args.keyword_index)))
        return
    runs: dict[str, list[dict]] = {name: [] for name in PATHS}
    for _ in range(args.rounds):
        for name in PATHS:
            runs[name].append(run_in_fresh_process(name, path, args.keyword_index))
            print(name, json.dumps(runs[name][-1]), file=sys.stderr, flush=True)
    best = {name: max(r["records_per_second"] for r in results) for name, results in runs.items()}
    result = {
        "cpu_count": psutil.cpu_count(),
        "lines": runs["after"][0]["records_read"],
        "records_per_second": best,
        "speedup": round(best["after"] / best["before"], 2),
        "rss_mb_peak": {name: max(r["rss_mb_peak"] for r in rs) for name, rs in runs.items()},
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "ingest.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
