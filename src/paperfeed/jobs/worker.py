"""One worker process: runs the queue's jobs until stopped (SIGINT/SIGTERM finish the jobs in
hand first), beating its heartbeat so that the others retry its jobs should it die."""

from __future__ import annotations

import asyncio

import procrastinate

from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid
from paperfeed.jobs.tasks import build_app

HEARTBEAT_SECONDS = 10.0  # how often a worker says it is alive
STALLED_AFTER_SECONDS = 60.0  # a worker silent this long is dead: its jobs run again elsewhere


def run_worker(
    feed: PaperFeed,
    *,
    concurrency: int = 1,
    heartbeat: float = HEARTBEAT_SECONDS,
    stalled_after: float = STALLED_AFTER_SECONDS,
    name: str = "worker",
) -> None:
    """Run `feed`'s jobs, `concurrency` at a time, until the process is told to stop.
    Invalid without the job queue (SQLite, or ``PAPERFEED_JOB_QUEUE=0``)."""
    queue = feed.job_queue
    if queue is None:
        raise Invalid(
            "paperfeed worker runs the PostgreSQL job queue: set PAPERFEED_DATABASE_URL to a "
            "PostgreSQL database (on SQLite, `paperfeed serve` does the background work itself)"
        )
    if stalled_after <= heartbeat:
        raise Invalid("--stalled-after must be longer than --heartbeat")
    connector = procrastinate.PsycopgConnector(conninfo=queue.conninfo)
    app = build_app(feed, queue, connector, stalled_after=stalled_after)
    asyncio.run(_work(app, concurrency, heartbeat, stalled_after, name))


async def _work(
    app: procrastinate.App,
    concurrency: int,
    heartbeat: float,
    stalled_after: float,
    name: str,
) -> None:
    async with app.open_async():
        await app.run_worker_async(
            name=name,
            concurrency=concurrency,
            update_heartbeat_interval=heartbeat,
            stalled_worker_timeout=stalled_after,
        )
