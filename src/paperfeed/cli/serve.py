"""`paperfeed serve`: the web app (pages, JSON API, Atom feeds) under uvicorn.

Links (e-mails, Atom ids, markdown) name the address served unless ``PAPERFEED_BASE_URL`` says
otherwise; uvicorn does not trust X-Forwarded-For (the app does, from
``PAPERFEED_TRUSTED_PROXIES`` only) and its access log shows no token values.
"""

from __future__ import annotations

import ipaddress
import logging

import click

from paperfeed.cli.context import console, feed_of
from paperfeed.cli.ingest import catch_up_keyword_index
from paperfeed.cli.sync import sync_in_child
from paperfeed.config import base_url_configured, server_settings
from paperfeed.core import PaperFeed
from paperfeed.sync.activity import SiteActivity

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
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, no_index: bool, access_log: bool) -> None:
    """Serve the daily feed, search, submissions and the API over HTTP."""
    import uvicorn

    from paperfeed.web.app import create_app, redact_tokens_in_access_log

    feed = feed_of(ctx)
    settings = server_settings(feed.settings, host, port)
    if settings != feed.settings:
        feed = ctx.with_resource(PaperFeed(settings))
    if not base_url_configured() and not is_loopback(host):
        log.warning(
            "serving on %s without PAPERFEED_BASE_URL: links in e-mails and feeds will say %s; "
            "set PAPERFEED_BASE_URL to the address readers use",
            host,
            settings.base_url,
        )
    catch_up_keyword_index(feed)  # e.g. rebuilt after an upgrade: now, not in a request
    app = SiteActivity(settings.data_dir).middleware(create_app(feed))  # a sync child rests
    # With the job queue (PostgreSQL), `paperfeed worker`s do the background work: this only serves.
    in_process = feed.job_queue is None
    if in_process and not no_index:
        feed.index_in_background(every=REINDEX_SECONDS)
    scheduler = feed.start_digest_scheduler() if in_process else None
    retrier = feed.community.start_submission_retrier() if in_process else None  # waiting for arXiv
    # followed sources, synced by a child process (its parsing and embedding never hold this
    # process's GIL nor take the CPU from requests)
    syncer = feed.start_sync_scheduler(run=sync_in_child(feed.settings)) if in_process else None
    console.print(f"paperfeed on http://{host}:{port}/ (store: {feed.settings.data_dir})")
    if not in_process:
        console.print("background work: the job queue's `paperfeed worker` processes")
    redact_tokens_in_access_log()
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            access_log=access_log,
            log_level="info",
            proxy_headers=False,  # the app reads X-Forwarded-For, from trusted proxies only
        )
    finally:
        if retrier is not None:
            retrier.stop()
        if syncer is not None:
            syncer.stop()
        if scheduler is not None:
            scheduler.stop()


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
