"""`paperfeed serve`: the web app (pages, JSON API, Atom feeds) under uvicorn."""

from __future__ import annotations

import logging

import click

from paperfeed.cli.context import console, pass_feed
from paperfeed.cli.ingest import catch_up_keyword_index
from paperfeed.core import PaperFeed

log = logging.getLogger(__name__)

REINDEX_SECONDS = 300  # how often the server embeds papers added since its last pass


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--no-index",
    is_flag=True,
    help="Do not embed new papers in the background (search falls back to keywords for them).",
)
@click.option("--access-log/--no-access-log", default=True, show_default=True)
@pass_feed
def serve(feed: PaperFeed, host: str, port: int, no_index: bool, access_log: bool) -> None:
    """Serve the daily feed, search, submissions and the API over HTTP."""
    import uvicorn

    from paperfeed.web.app import create_app

    catch_up_keyword_index(feed)  # e.g. rebuilt after an upgrade: now, not in a request
    app = create_app(feed)
    if not no_index:
        feed.index_in_background(every=REINDEX_SECONDS)
    scheduler = feed.start_digest_scheduler()
    console.print(f"paperfeed on http://{host}:{port}/ (store: {feed.settings.data_dir})")
    try:
        uvicorn.run(app, host=host, port=port, access_log=access_log, log_level="info")
    finally:
        if scheduler is not None:
            scheduler.stop()
