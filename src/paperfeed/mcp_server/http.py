"""The MCP server over streamable HTTP, as an ASGI endpoint the web app mounts at ``/mcp``.

Stateless, with JSON answers: each POST is one independent exchange, so any worker of several
can answer it and nothing is kept between requests. Host/Origin checks (DNS-rebinding
protection) are off: the tools only read public data, the same as the JSON API, and the site
is served under whatever name its operator gives it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

OPEN_TRANSPORT = TransportSecuritySettings(enable_dns_rebinding_protection=False)


class StreamableHttpEndpoint:
    """ASGI endpoint for `server`; `running()` belongs in the app's lifespan (each run gets a
    fresh session manager: one runs only once)."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self.server.streamable_http_app(
            stateless_http=True, json_response=True, transport_security=OPEN_TRANSPORT
        )
        async with self.server.session_manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.server.session_manager.handle_request(scope, receive, send)
