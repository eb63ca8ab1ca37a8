"""The `paperfeed` command: a thin layer over PaperFeed for operators."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from paperfeed.cli.admin import hide, unhide, unsubscribe
from paperfeed.cli.bootstrap import bootstrap
from paperfeed.cli.context import FeedOpener, pass_existing_feed
from paperfeed.cli.digest import digest
from paperfeed.cli.ingest import ingest
from paperfeed.cli.mcp import mcp
from paperfeed.cli.migrate import migrate
from paperfeed.cli.recommend import recommend
from paperfeed.cli.search import index, search, similar
from paperfeed.cli.serve import serve
from paperfeed.cli.sources import sources
from paperfeed.cli.status import status
from paperfeed.cli.sync import sync
from paperfeed.cli.users import user
from paperfeed.cli.worker import jobs, worker
from paperfeed.config import load_settings
from paperfeed.core import PaperFeed
from paperfeed.errors import PaperfeedError


class PaperfeedGroup(click.Group):
    """Shows paperfeed's own errors (unknown paper, arXiv unreachable...) as one clear line."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PaperfeedError as error:
            raise click.ClickException(str(error)) from error


@click.group(cls=PaperfeedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    package_name="paperfeed", prog_name="paperfeed", message="%(prog)s %(version)s"
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PAPERFEED_DATA_DIR",
    help="Where the embedded store lives (default: ./data).",
)
@click.option(
    "--database-url", envvar="PAPERFEED_DATABASE_URL", help="sqlite:///... or postgresql://..."
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, database_url: str | None, verbose: int) -> None:
    """paperfeed: a self-hosted daily papers feed with search and e-mail digests.

    Commands that read (stats, search, user list...) refuse to run where there is no store;
    ingest, bootstrap, index and serve make one. Shell completion for bash (zsh_source and
    fish_source alike), e.g. in ~/.bashrc:

    \b
        eval "$(_PAPERFEED_COMPLETE=bash_source paperfeed)"
    """
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = FeedOpener(ctx, load_settings(data_dir=data_dir, database_url=database_url))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_existing_feed
def stats(feed: PaperFeed, as_json: bool) -> None:
    """Counts of papers, authors, submissions, votes, users..."""
    counts = feed.stats()
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    for name, value in counts.items():
        click.echo(f"{name:>16}  {value:,}")


main.add_command(ingest)
main.add_command(bootstrap)
main.add_command(search)
main.add_command(similar)
main.add_command(recommend)
main.add_command(index)
main.add_command(digest)
main.add_command(migrate)
main.add_command(serve)
main.add_command(mcp)
main.add_command(sources)
main.add_command(sync)
main.add_command(status)
main.add_command(user)
main.add_command(hide)
main.add_command(unhide)
main.add_command(unsubscribe)
main.add_command(worker)
main.add_command(jobs)
