"""`paperfeed mcp`: the MCP server over stdio, for an AI assistant that starts it itself."""

from __future__ import annotations

import click

from paperfeed.cli.context import pass_feed
from paperfeed.core import PaperFeed


@click.command()
@pass_feed
def mcp(feed: PaperFeed) -> None:
    """Serve the papers to an AI assistant over MCP (stdio; the web app serves /mcp too)."""
    from paperfeed.mcp_server.stdio import serve_stdio

    serve_stdio(feed)
