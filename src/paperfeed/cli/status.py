"""`paperfeed status`: when each followed source was synced, what failed, what comes next."""

from __future__ import annotations

import datetime as dt
import json

import click

from paperfeed.cli.context import pass_feed
from paperfeed.core import PaperFeed
from paperfeed.sync.status import ago


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@pass_feed
def status(feed: PaperFeed, as_json: bool) -> None:
    """Per followed source: last success, last error, next run, papers added; papers waiting
    for embeddings; the last digest run."""
    state = feed.sync_status()
    if as_json:
        click.echo(json.dumps(state.as_dict(), indent=2))
        return
    now = state.now

    def when(value: dt.datetime | None) -> str:
        return ago(value, now) if value is not None else "never"

    click.echo(f"feed updated: {when(state.last_updated)}")
    click.echo(f"scheduler: {'on (serve syncs by itself)' if state.scheduled else 'off'}")
    for item in state.sources:
        source = item.source
        click.echo(f"{source.id}: {source.label} — {item.state}")
        click.echo(
            f"    last success {when(source.last_success_at)}; {source.papers_added} papers added"
        )
        if source.last_error:
            click.echo(f"    last error {when(source.last_error_at)}: {source.last_error}")
        if source.next_run_at is not None and state.scheduled:
            click.echo(f"    next run {ago(source.next_run_at, now)}")
    if not state.sources:
        click.echo("no sources followed: paperfeed sources add arxiv cs.CL")
    click.echo(f"papers waiting for embeddings: {state.waiting_for_embeddings}")
    digest = state.last_digest
    if digest is None:
        click.echo("last digest: none yet")
    else:
        click.echo(f"last digest: {digest.date}, {digest.sent} of {digest.planned} sent")
