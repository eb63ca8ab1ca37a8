"""`paperfeed sync`: fetch what is new from every followed source (safe to run from cron)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable

import click

from paperfeed.cli.context import console, pass_feed
from paperfeed.config import Settings, child_environment
from paperfeed.core import PaperFeed
from paperfeed.sync.activity import SiteActivity

log = logging.getLogger(__name__)

BACKGROUND_NICENESS = 19  # `serve`'s syncs take only the CPU the web server leaves


@click.command()
@click.option("--source", "source_ids", type=int, multiple=True, help="Only this source (ID).")
@click.option("--due", is_flag=True, help="Only the sources whose scheduled time has come.")
@click.option("--no-index", is_flag=True, help="Do not embed the new papers (`paperfeed index`).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--background",
    is_flag=True,
    help="Yield to a web server on this machine: lowest CPU priority, one CPU left free, and "
    "embedding slowed while the site is serving pages.",
)
@pass_feed
def sync(
    feed: PaperFeed,
    source_ids: tuple[int, ...],
    due: bool,
    no_index: bool,
    as_json: bool,
    background: bool,
) -> None:
    """Bring the feed up to date from the followed sources: the days missed since each one's
    last sync are caught up. Exits with 1 when another sync is running or a source failed."""
    if due and source_ids:
        raise click.UsageError("give --due or --source, not both")
    if background:
        yield_to_web_server()
        feed.search_index.after_batch = SiteActivity(feed.settings.data_dir).rest_after
    report = feed.sync(source_ids or None, due_only=due, embed=not no_index)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for result in report.results:
            line = f"{result.source.label}: {result.report.summary()}"
            if result.error:
                console.print(f"[red]{line}; failed: {result.error}[/]")
            else:
                click.echo(line)
        if not report.results:
            click.echo("nothing to sync: paperfeed sources add arxiv cs.CL")
        click.echo(
            f"{report.new} new papers, {report.keyword_indexed} keyword-indexed, "
            f"{report.embedded} embedded"
        )
    if report.failed:
        raise SystemExit(1)


def yield_to_web_server() -> None:
    """Run at the lowest CPU priority and off the first CPU (when there are several), so that
    parsing and embedding take only what a web server on this machine leaves. (Not SCHED_IDLE:
    in bench/sync.py here, under other work, the pages were no faster with it (p50 +60-70%
    against +17% at nice 19) and the sync got almost no CPU: over 7 minutes against 2.4.)"""
    os.nice(BACKGROUND_NICENESS)
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        os.sched_setaffinity(0, cpus[1:])


def sync_in_child(settings: Settings) -> Callable[[], int]:
    """For `serve`'s scheduler: a run of ``paperfeed sync --due --background`` in a child
    process on the same store (its parsing and embedding never hold the web server's GIL nor
    take its CPU); returns its exit status."""
    command = [sys.executable, "-m", "paperfeed", "sync", "--due", "--background"]
    environment = child_environment(settings)  # the URL stays out of `ps`

    def run() -> int:
        status = subprocess.run(
            command, stdin=subprocess.DEVNULL, env=environment, check=False
        ).returncode
        if status:
            log.warning("scheduled sync ended with status %d (paperfeed status says why)", status)
        return status

    return run
