"""`paperfeed sources ...`: the sources the feed fills itself from."""

from __future__ import annotations

import json

import click

from paperfeed.cli.context import pass_feed
from paperfeed.core import PaperFeed
from paperfeed.models import FollowedSource


@click.group()
def sources() -> None:
    """Follow arXiv categories, arXiv searches or Hugging Face daily papers."""


@sources.command("add")
@click.argument("kind", metavar="KIND")
@click.argument("value", required=False, default="")
@pass_feed
def add(feed: PaperFeed, kind: str, value: str) -> None:
    """Follow a source: `arxiv cs.CL` (or an archive: `arxiv cs`), `arxiv-query 'abs:"state
    space"'`, `hf-daily`. `paperfeed sync` (or `serve`) fetches its last days."""
    source = feed.sync_service.add_source(kind, value)
    click.echo(f"following {describe(source)}")


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the sources as JSON.")
@pass_feed
def list_sources(feed: PaperFeed, as_json: bool) -> None:
    """The followed sources, with their saved positions."""
    found = feed.sync_service.sources()
    if as_json:
        click.echo(json.dumps([_as_dict(s) for s in found], indent=2))
        return
    if not found:
        click.echo("no sources followed: paperfeed sources add arxiv cs.CL")
    for source in found:
        click.echo(f"{describe(source)}  (synced through {source.cursor or 'never'})")


@sources.command("remove")
@click.argument("source_id", metavar="ID", type=int)
@pass_feed
def remove(feed: PaperFeed, source_id: int) -> None:
    """Stop following a source (the papers it brought stay)."""
    click.echo(f"no longer following {describe(feed.sync_service.remove_source(source_id))}")


def describe(source: FollowedSource) -> str:
    return f"{source.id}: {source.label}"


def _as_dict(source: FollowedSource) -> dict[str, object]:
    return {
        "id": source.id,
        "kind": source.kind,
        "value": source.value,
        "cursor": source.cursor,
        "added_at": source.added_at.isoformat() if source.added_at else None,
        "papers_added": source.papers_added,
    }
