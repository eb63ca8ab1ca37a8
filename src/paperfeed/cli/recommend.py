"""`paperfeed recommend LIBRARY`: the new papers a library file's owner would want."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from paperfeed.cli.context import pass_feed
from paperfeed.core import PaperFeed
from paperfeed.recommend.for_library import MAX_LIMIT


@click.command()
@click.argument("library", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: 7 days ago).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list of id, title, score, reason."
)
@pass_feed
def recommend(
    feed: PaperFeed,
    library: Path,
    since: dt.datetime | None,
    until: dt.datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """Rank the papers published from --since to --until for LIBRARY: a BibTeX, RIS or
    CSL-JSON export (Zotero, Mendeley...) or a text file of arXiv ids, DOIs or titles, one a
    line. Malformed entries and entries not in the store are listed on stderr."""
    result = feed.recommend_library(
        library.read_bytes(),
        library.name,
        since=since.date() if since else None,
        until=until.date() if until else None,
        limit=limit,
    )
    for error in result.library.errors:
        click.echo(f"{library}:{error.line}: skipped: {error.reason}", err=True)
    for entry in result.match.unmatched:
        click.echo(f"{library}:{entry.line}: not in the store: {entry.label}", err=True)
    click.echo(
        f"{len(result.match.paper_ids)} of {len(result.library.entries)} entries are in the store"
        f" ({result.library.format})",
        err=True,
    )
    found = result.recommendations
    if as_json:
        rows = [
            {
                "id": r.paper.id,
                "title": r.paper.title,
                "score": round(r.score, 4),
                "reason": r.reason,
            }
            for r in found
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("No recommendations in that window.", err=True)
    for number, r in enumerate(found, 1):
        click.echo(f"{number:>3}. {r.paper.id}  {click.style(r.paper.title, bold=True)}")
        click.echo(f"     {r.score:.2f} · {r.reason}")
