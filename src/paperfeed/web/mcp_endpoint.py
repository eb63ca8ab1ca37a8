"""``/mcp``: the MCP server (paperfeed.mcp_server) inside the web app, under the API's limits.

It sits behind the same middleware as every route (security headers, the request-body limit)
and counts against the same per-address rate limit as the JSON API (429 beyond it).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI, Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from paperfeed.core import PaperFeed
from paperfeed.errors import RateLimited
from paperfeed.mcp_server.http import StreamableHttpEndpoint
from paperfeed.mcp_server.server import create_mcp_server
from paperfeed.web.deps import check_api_rate
from paperfeed.web.errors import error_response

MCP_PATH = "/mcp"


class RateLimitedEndpoint:
    """`endpoint`, answering 429 (the API's error body) to an address over the API limit."""

    def __init__(self, endpoint: StreamableHttpEndpoint) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            check_api_rate(request)
        except RateLimited as error:
            await error_response(request, error.status_code, str(error))(scope, receive, send)
            return
        await self.endpoint(scope, receive, send)


def mcp_route(
    feed: PaperFeed,
) -> tuple[Route, Callable[[FastAPI], AbstractAsyncContextManager[None]]]:
    """The ``/mcp`` route over `feed` and the lifespan that runs its session manager."""
    endpoint = StreamableHttpEndpoint(create_mcp_server(feed))
    route = Route(MCP_PATH, RateLimitedEndpoint(endpoint), methods=["GET", "POST", "DELETE"])

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with endpoint.running():
            yield

    return route, lifespan
