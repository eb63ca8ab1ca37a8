"""The mixed bounded load of ``web_load.py --mixed``: can a slow arXiv freeze the site?

`paperfeed serve` (a subprocess) looks submitted papers up at a local arXiv stub that never
answers in time: it holds every request 30 s (``--arxiv-stub hang``) or answers 503 with
Retry-After: 300 (``busy``). Two phases of ``--seconds`` each, then a shutdown:

- idle: 10 reader clients (logged in) request ``/`` and ``/static/style.css`` in turn, upvote
  (or take back) a paper every 2 s and log in again every 5 s;
- mixed: the same readers plus 40 submitter clients (50 in all; they log in before the phase,
  two at a time, as the readers do before theirs), each submitting a new arXiv id
  every 2 s, 9 at most (each waits on the stub, or is told at once that arXiv is busy: 202);
- shutdown: 8 more accounts submit at once, and SIGTERM goes to the server once the stub holds
  one of them; how long the server takes to exit.

Every client has its own account and its own address (X-Forwarded-For from a trusted proxy), so
rate limits apply as in production without cutting the load. An error is any answer other than
the expected one (200 for reads, 303 for votes and log-ins, 202 for submits) or a failed request.
Reports p50/p95 of the reads per phase, their ratio mixed / idle (target: within 2x), the submit
latencies, the most requests the stub held at once, and the shutdown time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import ROOT, percentile

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.core.community import LOOKUP_SLOTS
from paperfeed.errors import Conflict

sys.path.insert(0, str(ROOT))  # the tests' local arXiv (tests/support)
from tests.support.slow_arxiv import SlowArxiv

log = logging.getLogger("bench.mixed_load")

READERS, SUBMITTERS, CLOSERS = 10, 40, 8
SUBMITS_EACH = 9  # under the limit of 10 submissions an hour per account
PASSWORD = "bench horse battery staple"
READ_PATHS = ("/", "/static/style.css")
SUBMIT_EVERY, VOTE_EVERY, LOGIN_EVERY = 2.0, 2.0, 5.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Tally:
    """What the clients of one phase saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def timed(self, name: str, started: float, response: httpx.Response, expected: int) -> None:
        if response.status_code == expected:
            self.latencies[name].append(time.perf_counter() - started)
        else:
            self.errors[f"{name} {response.status_code}"] += 1

    def summary(self, seconds: float) -> dict[str, Any]:
        out: dict[str, Any] = {"seconds": seconds, "errors": dict(self.errors)}
        for name, values in sorted(self.latencies.items()):
            ms = [v * 1000 for v in values]
            out[name] = {
                "requests": len(ms),
                "p50_ms": round(percentile(ms, 50), 1),
                "p95_ms": round(percentile(ms, 95), 1),
                "max_ms": round(max(ms), 1),
            }
        return out


class Client:
    """One simulated person: an account, an address, a cookie jar."""

    def __init__(self, base_url: str, username: str, address: str) -> None:
        self.username = username
        self.http = httpx.AsyncClient(
            base_url=base_url, timeout=120, headers={"X-Forwarded-For": address}
        )
        self.token = ""

    async def log_in(self, tally: Tally, tries: int = 1) -> None:
        """Log in; `tries` > 1 tries again on 503 (password checks all busy) half a second
        later, as the set-up before a phase does."""
        form = await self.http.get("/login")
        token = _CSRF.search(form.text)
        data = {
            "username": self.username,
            "password": PASSWORD,
            "csrf_token": token[1] if token else "",
        }
        for _ in range(tries):
            started = time.perf_counter()
            response = await self.http.post("/login", data=data)
            if response.status_code != 503:
                break
            await asyncio.sleep(0.5)
        tally.timed("POST /login", started, response, 303)
        page = await self.http.get("/submit")  # the session's new CSRF token
        found = _CSRF.search(page.text)
        self.token = found[1] if found else ""

    async def read(self, tally: Tally) -> None:
        for path in READ_PATHS:
            started = time.perf_counter()
            tally.timed(path, started, await self.http.get(path), 200)

    async def vote(self, tally: Tally, paper_id: str, up: bool) -> None:
        data = {
            "paper_id": paper_id,
            "action": "up" if up else "down",
            "next": "/",
            "csrf_token": self.token,
        }
        started = time.perf_counter()
        tally.timed("POST /vote", started, await self.http.post("/vote", data=data), 303)

    async def submit(self, tally: Tally, arxiv_id: str) -> None:
        data = {"arxiv_id": arxiv_id, "csrf_token": self.token}
        started = time.perf_counter()
        tally.timed("POST /submit", started, await self.http.post("/submit", data=data), 202)


async def _guarded(tally: Tally, work: Any) -> None:
    try:
        await work
    except httpx.HTTPError as error:
        tally.errors[type(error).__name__] += 1


async def reader_loop(client: Client, tally: Tally, stop_at: float, paper_ids: list[str]) -> None:
    next_vote = time.perf_counter()
    next_login = next_vote + LOGIN_EVERY
    votes = itertools.cycle(paper_ids)
    up = True
    while time.perf_counter() < stop_at:
        await _guarded(tally, client.read(tally))
        now = time.perf_counter()
        if now >= next_vote:
            await _guarded(tally, client.vote(tally, next(votes), up))
            up, next_vote = not up, now + VOTE_EVERY
        if now >= next_login:
            await _guarded(tally, client.log_in(tally))
            next_login = now + LOGIN_EVERY


async def submitter_loop(client: Client, tally: Tally, stop_at: float, ids: Iterator[str]) -> None:
    for _ in range(SUBMITS_EACH):
        if time.perf_counter() >= stop_at:
            return
        started = time.perf_counter()
        await _guarded(tally, client.submit(tally, next(ids)))
        await asyncio.sleep(max(0.0, SUBMIT_EVERY - (time.perf_counter() - started)))


def fresh_ids() -> Iterator[str]:
    """arXiv ids no store has (a random 4-digit month per run: re-runs never repeat one)."""
    month = random.randint(9000, 9999)
    return (f"{month}.{n:05d}" for n in itertools.count(1))


def create_accounts(data_dir: Path, database_url: str | None) -> None:
    settings = Settings(data_dir=data_dir, secret_key="bench", database_url=database_url)
    with PaperFeed(settings) as feed:
        for name in (
            *(f"reader{i}" for i in range(READERS)),
            *(f"submitter{i}" for i in range(SUBMITTERS)),
            *(f"closer{i}" for i in range(CLOSERS)),
        ):
            with contextlib.suppress(Conflict):  # made by an earlier run
                feed.community.create_account(name, PASSWORD)


async def log_in_all(clients: list[Client]) -> dict[str, Any]:
    """The set-up before a phase: every client logs in, two at a time (the server checks as
    many passwords at once as it has CPUs)."""
    tally, gate = Tally(), asyncio.Semaphore(2)

    async def one(client: Client) -> None:
        async with gate:
            await _guarded(tally, client.log_in(tally, tries=20))

    await asyncio.gather(*(one(c) for c in clients))
    return tally.summary(0.0)


async def phases(base_url: str, seconds: float, paper_ids: list[str]) -> dict[str, Any]:
    readers = [Client(base_url, f"reader{i}", f"10.1.0.{i + 1}") for i in range(READERS)]
    submitters = [Client(base_url, f"submitter{i}", f"10.2.0.{i + 1}") for i in range(SUBMITTERS)]
    ids = fresh_ids()
    results: dict[str, Any] = {"set_up_log_ins": await log_in_all(readers + submitters)}
    try:
        for name, active in (("idle", []), ("mixed", submitters)):
            tally = Tally()
            stop_at = time.perf_counter() + seconds
            log.info("%s: %d clients for %.0f s", name, READERS + len(active), seconds)
            await asyncio.gather(
                *(reader_loop(c, tally, stop_at, paper_ids) for c in readers),
                *(submitter_loop(c, tally, stop_at, ids) for c in active),
            )
            results[name] = tally.summary(seconds)
            log.info("  %s", results[name])
    finally:
        for client in readers + submitters:
            await client.http.aclose()
    return results


async def shutdown_while_waiting(base_url: str, server: Any, stub: SlowArxiv) -> dict[str, Any]:
    """Submit from CLOSERS accounts at once, SIGTERM the server once the stub holds one of
    those lookups; time the exit."""
    tally = Tally()
    clients = [Client(base_url, f"closer{i}", f"10.3.0.{i + 1}") for i in range(CLOSERS)]
    ids = fresh_ids()
    try:
        await log_in_all(clients)
        pending = [
            asyncio.ensure_future(_guarded(tally, c.submit(tally, next(ids)))) for c in clients
        ]
        while stub.in_flight == 0 and not all(p.done() for p in pending):
            await asyncio.sleep(0.01)
        held = stub.in_flight
        started = time.perf_counter()
        server.terminate()
        exit_code = await asyncio.to_thread(server.wait, 120)
        seconds = time.perf_counter() - started
        await asyncio.gather(*pending)
    finally:
        for client in clients:
            await client.http.aclose()
    return {
        "submits_held_by_the_stub_at_sigterm": held,
        "seconds_to_exit_after_sigterm": round(seconds, 2),
        "exit_code": exit_code,
        "submit_answers": tally.summary(0.0),
    }


def ratio(results: dict[str, Any], path: str, key: str) -> float | None:
    idle, mixed = results["idle"].get(path), results["mixed"].get(path)
    if not idle or not mixed or not idle[key]:
        return None
    return round(mixed[key] / idle[key], 2)


def run(
    *,
    data_dir: Path,
    database_url: str | None,
    seconds: float,
    stub_mode: str,
    latest_day: str,
    start_server: Any,
    free_port: Any,
) -> dict[str, Any]:
    """The whole mixed run against a prepared store; returns what web_load.py writes."""
    create_accounts(data_dir, database_url)
    stub = SlowArxiv(stub_mode).start()
    port = free_port()
    server = start_server(
        data_dir,
        port,
        database_url,
        extra_env={
            "PAPERFEED_ARXIV_API_URL": stub.url,
            "PAPERFEED_TRUSTED_PROXIES": "127.0.0.1",
        },
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        listing = httpx.get(
            f"{base_url}/api/daily_papers", params={"date": latest_day, "limit": 20}
        )
        paper_ids = [item["paper"]["id"] for item in listing.json()]
        results = asyncio.run(phases(base_url, seconds, paper_ids))
        most_held = stub.most_in_flight
        results["shutdown"] = asyncio.run(shutdown_while_waiting(base_url, server, stub))
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        stub.close()
    results["arxiv_stub"] = {
        "mode": stub_mode,
        "requests": stub.requests,
        "most_held_at_once": most_held,
        "lookup_slots": LOOKUP_SLOTS,
    }
    results["mixed_vs_idle"] = {
        f"{path} {key}": ratio(results, path, key)
        for path in READ_PATHS
        for key in ("p50_ms", "p95_ms")
    }
    results["setup_note"] = (
        f"{READERS} readers (reads, a vote every {VOTE_EVERY:g} s, a log-in every "
        f"{LOGIN_EVERY:g} s) alone, then with {SUBMITTERS} submitters (a new id every "
        f"{SUBMIT_EVERY:g} s each); cpus {os.cpu_count()}"
    )
    return results
