"""The MCP server at /mcp of the web app, through the SDK's streamable HTTP client against a
real uvicorn server: every tool, bad inputs, and the API's limits and headers."""

from __future__ import annotations

import asyncio

import httpx
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from paperfeed.web.headers import SECURITY_HEADERS
from paperfeed.web.limits import Limit, RateLimits
from tests.mcp.expectations import check_bad_inputs, check_every_tool
from tests.support.net import uvicorn_serving

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


async def over_http(url: str, check) -> None:  # type: ignore[no-untyped-def]
    async with (
        streamable_http_client(f"{url}/mcp") as (read, write),
        ClientSession(read, write) as session,
    ):
        await check(session)


def test_every_tool_answers_to_its_output_schema(server_url: str) -> None:
    asyncio.run(over_http(server_url, check_every_tool))


def test_bad_input_is_a_tool_error(server_url: str) -> None:
    asyncio.run(over_http(server_url, check_bad_inputs))


def test_mcp_answers_carry_the_security_headers(server_url: str) -> None:
    response = httpx.post(f"{server_url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["serverInfo"]["name"] == "paperfeed"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_mcp_counts_against_the_api_rate_limit(site: PaperFeed) -> None:
    app = create_app(site, rate_limits=RateLimits(api=Limit(3, 60)))
    with uvicorn_serving(app) as url, httpx.Client(base_url=url) as client:
        statuses = [
            client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS).status_code,
            client.get("/api/daily_papers").status_code,
            client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS).status_code,
        ]
        refused = client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert "too many requests" in refused.json()["error"]


def test_mcp_bodies_are_limited_like_every_request(server_url: str, site: PaperFeed) -> None:
    too_large = site.settings.max_body_bytes + 1
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "pad": "' + b"x" * too_large + b'"}'
    response = httpx.post(
        f"{server_url}/mcp",
        content=body,
        headers={**MCP_HEADERS, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
