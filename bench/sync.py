"""Sync: one replayed arXiv day of ~1,500 new cs papers (OAI-PMH pages written from the cs crawl
in the shared data, served by a local server), fetched, imported, keyword-indexed and embedded
with the real MiniLM; and the site's page latency while that runs against the same site idle.

The site is `paperfeed serve` in a subprocess on a store of 3,000 Hugging Face items (embedded).
One client requests `/`, `/trending` and a search in turn, one every 0.1 s: for a while with the
site idle, then while a sync runs, then idle again; two ways, each on a fresh copy of the store:

- child: the sync in a child process at the lowest CPU priority and off the first CPU, as
  `serve`'s scheduler runs it (`paperfeed sync --background`);
- in_process: the sync in a thread of the web server's own process (what a plain in-process
  scheduler would do), for comparison.

With --before SRC (the src/ of other code, e.g. `git archive HEAD src | tar -x -C /tmp/before`),
the child way runs on that code and on this checkout's in turn, --rounds times (interleaved, so
both see the same machine load), and `side_by_side` gives the median of each. Every request is
kept with its time since the sync started, so the figures during the sync are also split by
its phases (fetch, import and keyword index; embedding).

    python bench/sync.py [--papers 1500] [--idle-seconds 30] [--site-papers 3000]
                         [--before SRC] [--rounds 2] [--ways child,in_process]
                         [--site-store DIR]

Writes bench/results/sync.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import httpx
from common import DATA, RESULTS, ROOT, percentile, write_json

sys.path.insert(0, str(ROOT))  # the tests' local arXiv (tests/support)

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.hf_daily import read_hf_daily
from tests.support.arxiv_feeds import (
    ArxivRecord,
    oai_no_records,
    oai_page,
    oai_query,
    rss_listing,
)
from tests.support.recorded_server import RecordedServer

log = logging.getLogger("bench.sync")

HF_ITEMS = DATA / "hf_daily_papers" / "items.jsonl.gz"
CS_CRAWL = DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz"
PAGE = 500
PATHS = ["/", "/trending", "/search?q=diffusion+models"]
PACE = 0.1  # seconds between two requests

# The web server with a sync in one of its own threads, once the file BENCH_SYNC_TRIGGER exists.
IN_PROCESS_SERVER = """
import json, os, sys, threading, time, uvicorn
from paperfeed.config import load_settings
from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
feed = PaperFeed(load_settings())
def sync():
    while not os.path.exists(os.environ["BENCH_SYNC_TRIGGER"]):
        time.sleep(0.05)
    report = feed.sync()
    with open(os.environ["BENCH_SYNC_REPORT"] + ".tmp", "w") as out:
        json.dump(report.as_dict(), out)
    os.rename(os.environ["BENCH_SYNC_REPORT"] + ".tmp", os.environ["BENCH_SYNC_REPORT"])
threading.Thread(target=sync, daemon=True).start()
uvicorn.run(create_app(feed), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def crawl_day(count: int, created: dt.date) -> list[ArxivRecord]:
    with gzip.open(CS_CRAWL, "rt") as lines:
        return [
            ArxivRecord(p["id"], p["title"], p["abstract"], p["authors"], p["categories"], created)
            for p in map(json.loads, islice(lines, count))
        ]


def serve_day(server: RecordedServer, day: dt.date, records: list[ArxivRecord]) -> None:
    """`records` as the OAI-PMH harvest of the cs set on `day`; nothing on other days."""
    server.serve("/oai", oai_no_records())
    pages = [records[i : i + PAGE] for i in range(0, len(records), PAGE)]
    for n, page in enumerate(pages):
        token = f"p{n + 1}" if n + 1 < len(pages) else None
        query = (
            oai_query("cs", day) if n == 0 else {"verb": "ListRecords", "resumptionToken": f"p{n}"}
        )
        server.serve("/oai", oai_page(page, day, token=token), query=query)
    server.serve("/rss/cs", rss_listing(day + dt.timedelta(days=1), []))


def build_store(data_dir: Path, upstream: str, today: dt.date, papers: int) -> dict[str, str]:
    """The site's store: the first `papers` Hugging Face items, keyword-indexed and embedded,
    following `cs`, synced through two days ago; returns the environment that points paperfeed
    at it and at `upstream`."""
    env = dict(os.environ)
    env |= {  # the site's and sync's settings (the store is built in-process with the defaults)
        "PAPERFEED_DATA_DIR": str(data_dir),
        "PAPERFEED_ARXIV_RSS_URL": f"{upstream}/rss/",
        "PAPERFEED_ARXIV_OAI_URL": f"{upstream}/oai",
        "PAPERFEED_ARXIV_DELAY": "0",
        "PAPERFEED_SYNC_SCHEDULE": "off",
    }
    if data_dir.exists():  # built by an earlier run (--site-store)
        return env
    with PaperFeed(Settings(data_dir=data_dir)) as feed:
        feed.ingest(islice(read_hf_daily(HF_ITEMS), papers))
        feed.index()
        source = feed.sync_service.add_source("arxiv", "cs")
        feed.store.sources.save_cursor(source.id, (today - dt.timedelta(days=2)).isoformat())
    return env


Request = tuple[float, str, float]  # seconds since the sync started, path, latency in ms


def measure(
    base: str, until: Callable[[], bool], seconds: float | None = None, since: float = 0.0
) -> list[Request]:
    """PATHS requested in turn, one every PACE seconds (a reader's clicks, not a load test),
    until `until()` (or `seconds` pass); each at its time.monotonic() - `since`."""
    requests: list[Request] = []
    stop_at = time.monotonic() + seconds if seconds else None
    with httpx.Client(base_url=base, timeout=60) as client:
        for n in range(10**9):
            if until() or (stop_at and time.monotonic() > stop_at):
                break
            at, started = time.monotonic() - since, time.perf_counter()
            path = PATHS[n % len(PATHS)]
            client.get(path).raise_for_status()
            requests.append((round(at, 3), path, (time.perf_counter() - started) * 1000))
            time.sleep(PACE)
    return requests


def summary(measured: list[Request]) -> dict[str, object]:
    """Mean and percentiles of all requests, and p50 / p95 per path."""
    if not measured:
        return {"requests": 0}
    latencies = [ms for _, _, ms in measured]
    per_path = {
        path: {
            "p50_ms": round(percentile([ms for _, p, ms in measured if p == path], 50), 2),
            "p95_ms": round(percentile([ms for _, p, ms in measured if p == path], 95), 2),
        }
        for path in PATHS
    }
    return {
        "requests": len(latencies),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "per_path": per_path,
    }


def wait_up(base: str) -> None:
    for _ in range(600):
        try:
            httpx.get(base + "/about", timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{base} did not come up")


def run_way(
    way: str, data_dir: Path, env: dict[str, str], idle_seconds: float
) -> dict[str, object]:
    """One way (child or in_process) on the store in `data_dir`: the pages idle, during the
    sync and idle again."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    report_file = data_dir.parent / f"{data_dir.name}.report.json"
    trigger = data_dir.parent / f"{data_dir.name}.start"
    log_path = data_dir.parent / f"{data_dir.name}.server.log"
    server_log = log_path.open("wb")  # the server's errors, shown if a request fails
    if way == "child":
        command = [
            sys.executable,
            "-m",
            "paperfeed",
            "serve",
            "--port",
            str(port),
            "--no-index",
            "--no-access-log",
        ]
        server = subprocess.Popen(command, env=env, stderr=server_log)
    else:
        env = env | {"BENCH_SYNC_TRIGGER": str(trigger), "BENCH_SYNC_REPORT": str(report_file)}
        server = subprocess.Popen(
            [sys.executable, "-c", IN_PROCESS_SERVER, str(port)], env=env, stderr=server_log
        )
    sync: subprocess.Popen[bytes] | None = None
    try:
        wait_up(base)
        measure(base, lambda: False, seconds=3)  # warm up
        idle_before = measure(base, lambda: False, seconds=idle_seconds)
        started = time.monotonic()
        if way == "child":  # what serve's scheduler runs (paperfeed.cli.sync.sync_in_child)
            child = [sys.executable, "-m", "paperfeed", "sync", "--background", "--json"]
            with report_file.open("wb") as out:
                sync = subprocess.Popen(child, env=env, stdout=out)
            during = measure(
                base, lambda: sync is not None and sync.poll() is not None, None, started
            )
        else:
            trigger.touch()  # the server starts its sync
            during = measure(base, report_file.exists, None, started)
        elapsed = time.monotonic() - started
        idle_after = measure(base, lambda: False, seconds=idle_seconds)
    except Exception:
        log.error("the server said:\n%s", log_path.read_text()[-5000:])
        raise
    finally:
        if sync is not None and sync.poll() is None:
            sync.kill()
        server.terminate()
        server.wait(timeout=30)
        server_log.close()
    report = json.loads(report_file.read_text())
    idle_s, during_s = summary(idle_before + idle_after), summary(during)
    embedding_from = report["seconds"]["fetch_import"] + report["seconds"]["keyword"]
    return {
        "sync_wall_seconds": round(elapsed, 1),
        "sync_report": {k: report[k] for k in ("new", "keyword_indexed", "embedded", "seconds")},
        "idle": idle_s,  # before and after the sync together (other load on the machine varies)
        "idle_before": summary(idle_before),
        "idle_after": summary(idle_after),
        "during_sync": during_s,
        "during_import": summary([r for r in during if r[0] < embedding_from]),
        "during_embedding": summary([r for r in during if r[0] >= embedding_from]),
        **{f"{key}_slowdown_pct": _slowdown(during_s, idle_s, f"{key}_ms") for key in FIGURES},
        "slowest_during": sorted(during, key=lambda r: -r[2])[:10],
        "requests": {"idle_before": idle_before, "during_sync": during, "idle_after": idle_after},
    }


FIGURES = ("p50", "p95", "mean")


def _slowdown(during: dict[str, object], idle: dict[str, object], key: str) -> float:
    return round(100 * (float(during[key]) / float(idle[key]) - 1), 1)  # type: ignore[arg-type]


def side_by_side(runs: dict[str, list[dict[str, object]]]) -> dict[str, dict[str, float]]:
    """Per code: the median over its rounds of each figure during the sync, idle, the
    slowdowns and the sync's wall time."""
    table = {}
    for code, results in runs.items():
        row: dict[str, float] = {}
        for key in FIGURES:
            for phase in ("idle", "during_sync"):
                row[f"{phase}_{key}_ms"] = _median(results, phase, f"{key}_ms")
            row[f"{key}_slowdown_pct"] = statistics.median(
                float(r[f"{key}_slowdown_pct"])
                for r in results  # type: ignore[arg-type]
            )
        row["sync_wall_seconds"] = statistics.median(
            float(r["sync_wall_seconds"])
            for r in results  # type: ignore[arg-type]
        )
        table[code] = row
    return table


def _median(results: list[dict[str, object]], phase: str, key: str) -> float:
    return statistics.median(float(r[phase][key]) for r in results)  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=1500)
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="before and after")
    parser.add_argument("--site-papers", type=int, default=3000, help="HF items on the site")
    parser.add_argument(
        "--site-store", type=Path, help="build the site's store here once, reuse it (same day)"
    )
    parser.add_argument(
        "--before",
        type=Path,
        action="append",
        help="src/ of code to compare with (again for more: each named by the folder above)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs per side (with --before)")
    parser.add_argument("--ways", default="child,in_process", help="of child, in_process")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    today = dt.datetime.now(dt.UTC).date()
    yesterday = today - dt.timedelta(days=1)
    results: dict[str, object] = {
        "papers": args.papers,
        "site_papers": args.site_papers,
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "ways": {},
    }
    # (name, way, environment): the child way on the code compared with first, in turn
    runs = [(way, way, {}) for way in args.ways.split(",") if way]
    if args.before:
        compared = [
            (
                "child_before" if len(args.before) == 1 else f"child_{src.resolve().parent.name}",
                "child",
                {"PYTHONPATH": str(src.resolve())},
            )
            for src in args.before
        ]
        runs = [*compared, ("child", "child", {})] * args.rounds + [
            run for run in runs if run[0] != "child"
        ]
    rounds: dict[str, list[dict[str, object]]] = {}
    with RecordedServer() as upstream, tempfile.TemporaryDirectory() as tmp:
        serve_day(upstream, yesterday, crawl_day(args.papers, yesterday - dt.timedelta(days=1)))
        base_dir = args.site_store or Path(tmp) / "base"
        env = build_store(base_dir, upstream.url, today, args.site_papers)
        for n, (name, way, extra_env) in enumerate(runs):
            data_dir = Path(tmp) / f"{name}.{n}"
            shutil.copytree(base_dir, data_dir)
            os.sync()  # the copy written out now, not by the kernel's flusher during the run
            log.info("%s ...", name)
            run_env = env | extra_env | {"PAPERFEED_DATA_DIR": str(data_dir)}
            result = run_way(way, data_dir, run_env, args.idle_seconds)
            log.info(
                "%s: %s", name, {k: result[k] for k in ("sync_wall_seconds", "idle", "during_sync")}
            )
            rounds.setdefault(name, []).append(result)
            shutil.rmtree(data_dir)
    results["ways"] = {name: found[-1] for name, found in rounds.items()}
    results["rounds"] = rounds
    results["side_by_side"] = side_by_side(rounds)
    results["load_average_at_end"] = os.getloadavg()
    log.info("side by side: %s", json.dumps(results["side_by_side"], indent=1))
    write_json(RESULTS / "sync.json", results)


if __name__ == "__main__":
    main()
