"""Job queues over PostgreSQL, side by side: procrastinate (chosen), pgqueuer and a plain
``SELECT ... FOR UPDATE SKIP LOCKED`` loop with LISTEN/NOTIFY, each with 2 worker processes.

- pickup: a single no-op job deferred while the workers are idle, until a worker starts it
  (median and 95th percentile of PICKUPS jobs, one at a time);
- throughput: JOBS no-op jobs deferred at once, from the first defer to the last job run.

Each job writes "<deferred at> <started at>" (time.time(), one machine) to its worker's file.
Run: ``python -m bench.jobs [--database-url postgresql://...]`` (default: a throwaway server
from the pgserver wheel, as the tests use); pgqueuer comes from ``pip install pgqueuer``.
Writes bench/results/jobs.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.common import RESULTS
from bench.databases import fresh_database

SYSTEMS = ("procrastinate", "pgqueuer", "skip-locked")
WORKERS = 2
JOBS = 1000
PICKUPS = 20
PLAIN_TABLE = """CREATE TABLE IF NOT EXISTS plain_jobs (
    id bigserial PRIMARY KEY, task text NOT NULL, args jsonb NOT NULL)"""


def _record(out: Path, sent: float) -> None:
    with out.open("a") as handle:
        handle.write(f"{sent} {time.time()}\n")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


# -- workers (run as subprocesses: `python -m bench.jobs worker SYSTEM URL OUT`) ---------------


def _procrastinate_app(url: str, out: Path | None = None) -> object:
    import procrastinate

    connector = (
        procrastinate.PsycopgConnector(conninfo=url)
        if out
        else procrastinate.SyncPsycopgConnector(conninfo=url)
    )
    app = procrastinate.App(connector=connector)

    @app.task(name="noop")
    async def noop(sent: float) -> None:
        assert out is not None
        _record(out, sent)

    return app


def _procrastinate_worker(url: str, out: Path) -> None:
    app = _procrastinate_app(url, out)

    async def work() -> None:
        async with app.open_async():  # type: ignore[attr-defined]
            await app.run_worker_async(concurrency=1, install_signal_handlers=True)  # type: ignore[attr-defined]

    asyncio.run(work())


def _pgqueuer_worker(url: str, out: Path) -> None:
    from pgqueuer import PsycopgDriver, QueueManager
    from pgqueuer.queries import Queries

    async def work() -> None:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        manager = QueueManager(Queries(PsycopgDriver(conn)))

        @manager.entrypoint("noop")
        async def noop(job: object) -> None:
            _record(out, json.loads(job.payload)["sent"])  # type: ignore[attr-defined]

        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, manager.shutdown.set)
        await manager.run(batch_size=1)

    asyncio.run(work())


def _skip_locked_worker(url: str, out: Path) -> None:
    take = """DELETE FROM plain_jobs WHERE id = (
        SELECT id FROM plain_jobs ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING args"""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("LISTEN plain_jobs")
        while True:
            row = conn.execute(take).fetchone()
            if row is None:
                for _ in conn.notifies(timeout=1.0, stop_after=1):
                    pass
                continue
            _record(out, row[0]["sent"])


WORKER_MAINS = {
    "procrastinate": _procrastinate_worker,
    "pgqueuer": _pgqueuer_worker,
    "skip-locked": _skip_locked_worker,
}


# -- deferring -----------------------------------------------------------------------------


class Deferrer:
    """Installs one system's schema and defers its no-op jobs."""

    def __init__(self, system: str, url: str) -> None:
        self.system, self.url = system, url
        if system == "procrastinate":
            self.app = _procrastinate_app(url)
            self.app.open()  # type: ignore[attr-defined]
            self.app.schema_manager.apply_schema()  # type: ignore[attr-defined]
        elif system == "pgqueuer":
            self.loop = asyncio.new_event_loop()
            self.loop.run_until_complete(self._pgqueuer_install())
        else:
            self.conn = psycopg.connect(url, autocommit=True)
            self.conn.execute(PLAIN_TABLE)

    async def _pgqueuer_install(self) -> None:
        from pgqueuer import PsycopgDriver
        from pgqueuer.queries import Queries

        self.pgq_conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        self.queries = Queries(PsycopgDriver(self.pgq_conn))
        await self.queries.install()

    def defer(self, count: int) -> None:
        sent = time.time()
        if self.system == "procrastinate":
            task = self.app.configure_task("noop")  # type: ignore[attr-defined]
            task.batch_defer(*({"sent": sent} for _ in range(count)))
        elif self.system == "pgqueuer":
            payload = json.dumps({"sent": sent}).encode()
            enqueue = self.queries.enqueue(["noop"] * count, [payload] * count, [0] * count)
            self.loop.run_until_complete(enqueue)
        else:
            with self.conn.transaction():
                with self.conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO plain_jobs (task, args) VALUES ('noop', %s)",
                        [(json.dumps({"sent": sent}),)] * count,
                    )
                self.conn.execute("NOTIFY plain_jobs")

    def close(self) -> None:
        if self.system == "procrastinate":
            self.app.close()  # type: ignore[attr-defined]
        elif self.system == "pgqueuer":
            self.loop.run_until_complete(self.pgq_conn.close())
            self.loop.close()
        else:
            self.conn.close()


# -- one system ------------------------------------------------------------------------------


def _records(outs: list[Path]) -> list[tuple[float, float]]:
    found = []
    for out in outs:
        if out.exists():
            for line in out.read_text().splitlines():
                sent, started = line.split()
                found.append((float(sent), float(started)))
    return found


def _wait_for(outs: list[Path], count: int, seconds: float = 120.0) -> list[tuple[float, float]]:
    deadline = time.monotonic() + seconds
    while len(found := _records(outs)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(found)} of {count} jobs ran in {seconds:.0f} s")
        time.sleep(0.002)
    return found


def measure(system: str, url: str, work_dir: Path) -> dict[str, float]:
    deferrer = Deferrer(system, url)
    outs = [work_dir / f"{system}.{i}.out" for i in range(WORKERS)]
    command = [sys.executable, "-m", "bench.jobs", "worker", system, url]
    workers = [subprocess.Popen([*command, str(out)]) for out in outs]
    try:
        deferrer.defer(1)  # the workers are up once this has run
        done = len(_wait_for(outs, 1))
        latencies = []
        for _ in range(PICKUPS):
            time.sleep(0.1)  # idle workers, waiting for news
            deferrer.defer(1)
            done += 1
            sent, started = max(_wait_for(outs, done))
            latencies.append(started - sent)
        first = time.time()
        deferrer.defer(JOBS)
        finished = _wait_for(outs, done + JOBS)
        last = max(started for _, started in finished)
        per_worker = [len(_records([out])) for out in outs]
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        deferrer.close()
    latencies.sort()
    return {
        "jobs_per_second": round(JOBS / (last - first), 1),
        "seconds_for_jobs": round(last - first, 3),
        "pickup_ms_median": round(statistics.median(latencies) * 1000, 1),
        "pickup_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "jobs_per_worker": per_worker,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        system, url, out = sys.argv[2:5]
        WORKER_MAINS[system](url, Path(out))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: a throwaway one)")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    args = parser.parse_args()
    server = None
    server_url = args.database_url
    if server_url is None:
        from tests.support import pg

        server = pg.start_server()
        server_url = server.url("postgres")
    work_dir = RESULTS / "cache" / f"jobs-{os.getpid()}"
    work_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"workers": WORKERS, "jobs": JOBS, "pickups": PICKUPS}
    try:
        for system in args.systems:
            with fresh_database(server_url, f"bench_jobs_{system.replace('-', '_')}") as url:
                assert url is not None
                results[system] = measure(system, _libpq(url), work_dir)
                print(system, results[system], flush=True)
    finally:
        for leftover in work_dir.glob("*"):
            leftover.unlink()
        work_dir.rmdir()
        if server is not None:
            server.stop()
    (RESULTS / "jobs.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
