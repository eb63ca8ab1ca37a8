"""The MCP server over stdio (``paperfeed mcp``): an assistant starts it as a subprocess."""

from __future__ import annotations

from paperfeed.core import PaperFeed
from paperfeed.mcp_server.server import create_mcp_server


def serve_stdio(feed: PaperFeed) -> None:
    """Answer MCP requests on stdin/stdout until the client closes them."""
    create_mcp_server(feed).run("stdio")
