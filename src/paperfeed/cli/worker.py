"""`paperfeed worker`: run background jobs from the PostgreSQL job queue; `paperfeed jobs`:
what the queue holds and how many workers are alive."""

from __future__ import annotations

import json

import click

from paperfeed.cli.context import console, pass_feed
from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid
from paperfeed.jobs.worker import HEARTBEAT_SECONDS, STALLED_AFTER_SECONDS, run_worker


@click.command()
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Jobs run at once by this process.",
)
@click.option(
    "--heartbeat",
    default=HEARTBEAT_SECONDS,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between this worker's heartbeats.",
)
@click.option(
    "--stalled-after",
    default=STALLED_AFTER_SECONDS,
    show_default=True,
    type=click.FloatRange(0.2),
    help="Seconds without a heartbeat after which a worker's jobs run elsewhere.",
)
@click.option("--name", default="worker", show_default=True, help="This worker's name in logs.")
@pass_feed
def worker(
    feed: PaperFeed, concurrency: int, heartbeat: float, stalled_after: float, name: str
) -> None:
    """Run background jobs (syncs, embedding, digests) until stopped, on PostgreSQL.

    Start any number, on any machines: each job runs once, failed ones are retried with
    backoff and the jobs of a worker that dies are run again by another. Ctrl-C or SIGTERM
    finish the jobs in hand first."""
    if feed.job_queue is not None:  # else run_worker says why it cannot run
        console.print(f"paperfeed worker: {concurrency} job(s) at a time (Ctrl-C stops)")
    run_worker(
        feed, concurrency=concurrency, heartbeat=heartbeat, stalled_after=stalled_after, name=name
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_feed
def jobs(feed: PaperFeed, as_json: bool) -> None:
    """Jobs in the queue by task and status, and the workers alive."""
    queue = feed.job_queue
    if queue is None:
        raise Invalid("no job queue here: background work runs inside `paperfeed serve`")
    counts = queue.counts()
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    for name, value in counts.items():
        click.echo(f"{value:>8,}  {name}")
