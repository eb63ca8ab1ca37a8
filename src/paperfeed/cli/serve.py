"""`paperfeed serve`: the web app (pages, JSON API, Atom feeds) under uvicorn.

Links (e-mails, Atom ids, markdown) name the address served unless ``PAPERFEED_BASE_URL`` says
otherwise; uvicorn does not trust X-Forwarded-For (the app does, from
``PAPERFEED_TRUSTED_PROXIES`` only) and its access log shows no token values.
"""

from __future__ import annotations

import ipaddress
import logging

import click

from paperfeed.cli.context import console
from paperfeed.cli.ingest import catch_up_keyword_index
from paperfeed.config import base_url_configured, server_settings
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
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, no_index: bool, access_log: bool) -> None:
    """Serve the daily feed, search, submissions and the API over HTTP."""
    import uvicorn

    from paperfeed.web.app import create_app, redact_tokens_in_access_log

    feed = ctx.find_object(PaperFeed)
    assert feed is not None, "the paperfeed group puts the PaperFeed in the context"
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
    app = create_app(feed)
    if not no_index:
        feed.index_in_background(every=REINDEX_SECONDS)
    scheduler = feed.start_digest_scheduler()
    retrier = feed.start_submission_retrier()  # submissions that wait for arXiv
    console.print(f"paperfeed on http://{host}:{port}/ (store: {feed.settings.data_dir})")
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
        retrier.stop()
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
