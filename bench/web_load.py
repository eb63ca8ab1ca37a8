"""Web load: requests/s and latency percentiles of `/static/style.css` (the reference: a file
as the server sends it), `/`, `/trending`, a paper page, `/search?q=...`, `/api/daily_papers`
and `/feeds/daily.atom` with N concurrent clients against `paperfeed serve` in a subprocess, on
a SQLite store loaded with the Hugging Face daily papers items (~9.9k papers with submissions).

The clients are N connections of `wrk` (Debian package wrk: one C thread, so the figures are
the server's, not the load generator's), each asking with gzip and one visitor's session
cookie as a browser would; without wrk, N Python clients (httpx AsyncClient) in this process,
which take CPU from the server on a small machine (a warning says so). Server and wrk are not
pinned to CPUs: on a shared 2-core machine pinning the server to one CPU halved its requests/s.

    python bench/web_load.py [--clients 50] [--seconds 10] [--data-dir DIR] [--access-log]
        [--before SRC]   (also serve the code in SRC, e.g. a `git worktree add /tmp/before HEAD`
                         checkout's src/, on a copy of the store, and measure each endpoint on
                         both servers one after the other: web_load.before_after.json)
        [--rounds N]     (with --before: N alternating runs per side and endpoint; the run
                         of median requests/s is reported, with every run's requests/s)
        [--database-url postgresql://...]   (the store on PostgreSQL: web_load.postgres.json)
        [--workers N]   (N > 1: `uvicorn --factory paperfeed.web.app:create_app_from_env
                         --workers N`, as the README's production set-up; web_load.<N>w.json)
        [--mixed [--arxiv-stub hang|busy]]   (reads, votes, submits and log-ins of 50 clients
                         while arXiv is a stub that never answers in time: mixed_load.py;
                         web_load.mixed.json)

Writes bench/results/web_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import mixed_load
from common import DATA, RESULTS, SHORT_QUERIES, percentile, write_json

from paperfeed import listings
from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.hf_daily import read_hf_daily

log = logging.getLogger("bench.web_load")

HF_ITEMS = DATA / "hf_daily_papers" / "items.jsonl.gz"
QUERIES = SHORT_QUERIES[:8]
WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")


def endpoints(latest_day: str, paper_id: str) -> dict[str, list[str]]:
    """Paths per measured endpoint (search cycles through several queries)."""
    return {
        "/static/style.css": ["/static/style.css"],
        "/": ["/"],
        "/trending": ["/trending"],
        "/papers/{id}": [f"/papers/{paper_id}"],
        "/search?q=...": [str(httpx.URL("/search", params={"q": q})) for q in QUERIES],
        "/api/daily_papers": [f"/api/daily_papers?date={latest_day}", "/api/daily_papers"],
        "/feeds/daily.atom": ["/feeds/daily.atom"],
    }


def top_paper(data_dir: Path, database_url: str | None, latest_day: str) -> str:
    """The id of the latest day's most upvoted paper (the paper page measured)."""
    settings = Settings(data_dir=data_dir, secret_key="bench", database_url=database_url)
    with PaperFeed(settings) as feed:
        period = listings.parse_period(latest_day, None, None, default_day=feed.latest_day())
        return feed.listing(period, limit=1).items[0].paper.id


def prepare_store(data_dir: Path, database_url: str | None = None) -> str:
    """Load the HF daily items once (re-runs reuse the store); returns the latest feed day."""
    settings = Settings(data_dir=data_dir, secret_key="bench", database_url=database_url)
    with PaperFeed(settings) as feed:
        if feed.store.community.latest_day() is None:
            started = time.perf_counter()
            report = feed.ingest(read_hf_daily(HF_ITEMS))
            log.info("loaded %s in %.1f s", report.summary(), time.perf_counter() - started)
        latest = feed.store.community.latest_day()
        assert latest is not None, "no submissions loaded"
        return latest.isoformat()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    data_dir: Path,
    port: int,
    database_url: str | None = None,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    access_log: bool = False,
) -> subprocess.Popen[bytes]:
    """The server in a subprocess, its log in <data_dir>/server.log (a pipe nobody reads would
    block it once full, and the access log when asked)."""
    env = {
        **os.environ,
        "PAPERFEED_SECRET_KEY": "bench",
        "PAPERFEED_API_REQUESTS_PER_MINUTE": "0",  # 50 clients on one address: no API limit
        **(extra_env or {}),
    }
    if workers > 1:
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "paperfeed.web.app:create_app_from_env",
            "--workers", str(workers), "--port", str(port),
            "--access-log" if access_log else "--no-access-log",
        ]  # fmt: skip
        env["PAPERFEED_DATA_DIR"] = str(data_dir)
        if database_url:
            env["PAPERFEED_DATABASE_URL"] = database_url
    else:
        command = [
            sys.executable, "-m", "paperfeed", "--data-dir", str(data_dir),
            *(["--database-url", database_url] if database_url else []),
            "serve", "--port", str(port), "--no-index",
            "--access-log" if access_log else "--no-access-log",
        ]  # fmt: skip
    log_path = data_dir / "server.log"
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/about", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("server did not start in 60 s")


def load_generator() -> str:
    """What measures, for the results' setup."""
    if shutil.which("wrk") is None:
        return "Python: httpx AsyncClient in the bench process (wrk not installed)"
    version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    return f"{' '.join(version[:2])}, 1 thread; Accept-Encoding: gzip; one visitor's cookie"


def warn_without_wrk() -> None:
    if shutil.which("wrk") is None:
        log.warning(
            "wrk not found (Debian: apt-get install wrk): measuring with Python clients in this "
            "process, which share the CPUs with the server; on a small machine the figures are "
            "the load generator's as much as the server's"
        )


def measure(base_url: str, paths: list[str], clients: int, seconds: float) -> dict:
    """Figures of `clients` connections requesting `paths` in turn for `seconds`: with wrk
    when installed, else with run_load."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return asyncio.run(run_load(base_url, paths, clients, seconds))
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for path in paths:  # warm up: templates, caches, first query; a visitor's session
            client.get(path).raise_for_status()
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    command = [
        wrk, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "60s",
        "-s", str(WRK_SCRIPT), "-H", "Accept-Encoding: gzip, deflate",
        *(["-H", f"Cookie: {cookie}"] if cookie else []), base_url, "--", *paths,
    ]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    errors = {
        k: figures[k] for k in ("connect", "read", "write", "status", "timeout") if figures[k]
    }
    answered = figures["requests"] - figures["status"]  # 2xx and 3xx
    elapsed = figures["duration_us"] / 1e6
    return {
        "requests": answered,
        "errors": errors,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(answered / elapsed, 1),
        **{f"{k}_ms": round(figures[f"{k}_us"] / 1000, 1) for k in ("p50", "p95", "p99", "max")},
    }


async def run_load(base_url: str, paths: list[str], clients: int, seconds: float) -> dict:
    """`clients` tasks request `paths` in turn, each waiting for its answer, for `seconds`."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    cycle = itertools.cycle(paths)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        for path in paths:  # warm up: templates, caches, first query
            (await client.get(path)).raise_for_status()
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                path = next(cycle)
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                    ok = response.status_code == 200
                    key = str(response.status_code)
                except httpx.HTTPError as error:
                    ok, key = False, type(error).__name__
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors[key] = errors.get(key, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    ms = [x * 1000 for x in latencies]
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(ms, 50), 1) if ms else None,
        "p95_ms": round(percentile(ms, 95), 1) if ms else None,
        "p99_ms": round(percentile(ms, 99), 1) if ms else None,
        "max_ms": round(max(ms), 1) if ms else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--before", type=Path, help="src/ of the code to compare with")
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "cache" / "web_load_store")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--database-url", help="serve a PostgreSQL store (default: SQLite)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--mixed", action="store_true", help="the mixed load of mixed_load.py")
    parser.add_argument("--arxiv-stub", choices=("hang", "busy"), default="hang")
    parser.add_argument("--access-log", action="store_true", help="servers write access logs")
    parser.add_argument("--rounds", type=int, default=1, help="runs per side (with --before)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.mixed:
        run_mixed(args)
        return
    if args.before:
        run_before_after(args)
        return
    backend = "PostgreSQL" if args.database_url else "SQLite"
    suffix = (".postgres" if args.database_url else "") + (
        f".{args.workers}w" if args.workers > 1 else ""
    )
    args.out = args.out or RESULTS / f"web_load{suffix}.json"
    latest = prepare_store(args.data_dir, args.database_url)
    port = free_port()
    server = start_server(
        args.data_dir, port, args.database_url, args.workers, access_log=args.access_log
    )
    warn_without_wrk()
    results = {}
    try:
        for name, paths in endpoints(latest, top_paper(args.data_dir, None, latest)).items():
            log.info("%s: %d clients for %.0f s", name, args.clients, args.seconds)
            url = f"http://127.0.0.1:{port}"
            results[name] = measure(url, paths, args.clients, args.seconds)
            log.info("  %s", json.dumps(results[name]))
    finally:
        server.terminate()
        server.wait(timeout=30)
    settings = Settings(data_dir=args.data_dir, secret_key="bench", database_url=args.database_url)
    with PaperFeed(settings) as feed:
        stats = feed.stats()
    python_loop_ms = _python_speed()
    write_json(
        args.out,
        {
            "setup": {
                "server": (
                    f"uvicorn --factory create_app_from_env --workers {args.workers}, {backend}"
                    if args.workers > 1
                    else f"paperfeed serve: uvicorn, 1 process, {backend}, --no-index"
                ),
                "access_log": args.access_log,
                "load_generator": load_generator(),
                "pinned_to_cpus": False,  # see the module docstring
                "clients": args.clients,
                "seconds_per_endpoint": args.seconds,
                "papers": stats["papers"],
                "submissions": stats["submissions"],
                "latest_day": latest,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
                "python_1m_loop_ms": python_loop_ms,  # ~40-60 ms on an idle modern core
            },
            "endpoints": results,
        },
    )


# No API rate limit while measuring throughput (the default allows 600 a minute per address).
UNLIMITED = {"PAPERFEED_API_REQUESTS_PER_MINUTE": "0"}


def run_before_after(args: argparse.Namespace) -> None:
    """Each endpoint on the code in `args.before` (on a copy of the store), then on this
    checkout's, one after the other: both see the same machine load."""
    out = args.out or RESULTS / "web_load.before_after.json"
    latest = prepare_store(args.data_dir)
    paper_id = top_paper(args.data_dir, None, latest)
    before_dir = args.data_dir.parent / (args.data_dir.name + ".before")
    shutil.rmtree(before_dir, ignore_errors=True)
    shutil.copytree(args.data_dir, before_dir, ignore=shutil.ignore_patterns("*.log"))
    before_env = {**UNLIMITED, "PYTHONPATH": str(args.before.resolve())}
    servers = {}
    for side, data_dir, env in (
        ("before", before_dir, before_env),
        ("after", args.data_dir, UNLIMITED),
    ):
        port = free_port()
        servers[side] = (
            port,
            start_server(data_dir, port, extra_env=env, access_log=args.access_log),
        )
    warn_without_wrk()
    results: dict[str, dict[str, dict]] = {}
    try:
        for name, paths in endpoints(latest, paper_id).items():
            runs: dict[str, list[dict]] = {side: [] for side in servers}
            for _ in range(args.rounds):
                for side, (port, _) in servers.items():
                    log.info("%s (%s): %d clients, %.0f s", name, side, args.clients, args.seconds)
                    url = f"http://127.0.0.1:{port}"
                    runs[side].append(measure(url, paths, args.clients, args.seconds))
                    log.info("  %s", json.dumps(runs[side][-1]))
            results[name] = {side: median_run(side_runs) for side, side_runs in runs.items()}
    finally:
        for _, server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    static = results["/static/style.css"]
    for sides in results.values():
        for side, figures in sides.items():
            reference = static[side]["requests_per_second"]
            figures["share_of_static"] = round(figures["requests_per_second"] / reference, 2)
    write_json(
        out,
        {
            "setup": {
                "server": "paperfeed serve: uvicorn, 1 process, SQLite, --no-index; "
                f"before: {args.before}, after: this checkout",
                "access_log": args.access_log,
                "load_generator": load_generator(),
                "pinned_to_cpus": False,  # see the module docstring
                "clients": args.clients,
                "seconds_per_endpoint": args.seconds,
                "rounds": args.rounds,
                "latest_day": latest,
                "paper": paper_id,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
                "python_1m_loop_ms": _python_speed(),
            },
            "endpoints": results,
        },
    )


def median_run(runs: list[dict]) -> dict:
    """The run of median requests/s, with every run's requests/s when there are several."""
    chosen = sorted(runs, key=lambda run: run["requests_per_second"])[len(runs) // 2]
    if len(runs) == 1:
        return chosen
    return {**chosen, "rounds_requests_per_second": [run["requests_per_second"] for run in runs]}


def run_mixed(args: argparse.Namespace) -> None:
    backend = "PostgreSQL" if args.database_url else "SQLite"
    out = args.out or RESULTS / f"web_load.mixed{'.postgres' if args.database_url else ''}.json"
    latest = prepare_store(args.data_dir, args.database_url)
    results = mixed_load.run(
        data_dir=args.data_dir,
        database_url=args.database_url,
        seconds=args.seconds,
        stub_mode=args.arxiv_stub,
        latest_day=latest,
        start_server=start_server,
        free_port=free_port,
    )
    setup = {
        "server": f"paperfeed serve: uvicorn, 1 process, {backend}, --no-index",
        "arxiv_stub": args.arxiv_stub,
        "seconds_per_phase": args.seconds,
        "latest_day": latest,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "python_1m_loop_ms": _python_speed(),
    }
    write_json(out, {"setup": setup, **results})


def _python_speed() -> float:
    """Milliseconds for a 1M-iteration Python loop: how busy the machine was."""
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return round((time.perf_counter() - started) * 1000, 1)


if __name__ == "__main__":
    main()
