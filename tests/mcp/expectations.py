"""One MCP session's checks, the same over every transport: each tool called through the SDK's
client, its structured output validated against the output schema it declares."""

from __future__ import annotations

from typing import Any

import jsonschema
from mcp.client.session import ClientSession
from mcp_types import CallToolResult

TOOLS = {"search_papers", "get_paper", "similar_papers", "daily_papers", "trending_papers"}


async def call(session: ClientSession, schemas: dict[str, Any], name: str, **args: Any) -> Any:
    """The structured output of a successful call, checked against the tool's output schema."""
    result = await session.call_tool(name, args)
    assert not result.is_error, (name, result.content)
    jsonschema.validate(result.structured_content, schemas[name])
    return result.structured_content


async def output_schemas(session: ClientSession) -> dict[str, Any]:
    tools = (await session.list_tools()).tools
    assert {tool.name for tool in tools} == TOOLS
    assert all(tool.output_schema for tool in tools)
    return {tool.name: tool.output_schema for tool in tools}


async def check_every_tool(session: ClientSession) -> None:
    """Each tool answers from the populated site of tests/support/web.py."""
    await session.initialize()
    schemas = await output_schemas(session)

    found = await call(session, schemas, "search_papers", query="sparse attention", limit=5)
    assert found["papers"][0]["id"] == "2401.00001"

    paper = await call(session, schemas, "get_paper", paper_id="arXiv:2401.00003v2")
    assert paper["title"] == "Diffusion Models for Protein Design"
    assert paper["submitted_on"] == "2024-01-08" and paper["upvotes"] == 7
    assert paper["url"].endswith("/papers/2401.00003")

    similar = await call(session, schemas, "similar_papers", paper_id="2401.00001", limit=3)
    assert similar["papers"] and "2401.00001" not in [p["id"] for p in similar["papers"]]

    day = await call(session, schemas, "daily_papers", date="2024-01-10")
    assert [p["id"] for p in day["papers"]] == ["2401.00001", "2401.00002"]  # most upvoted first
    latest = await call(session, schemas, "daily_papers")
    assert [p["id"] for p in latest["papers"]] == ["hep-th/9901001"]  # the latest day

    trending = await call(session, schemas, "trending_papers", limit=10)
    assert {p["id"] for p in trending["papers"]} <= {s for s in ALL_SUBMITTED}
    scores = [p["score"] for p in trending["papers"]]
    assert scores == sorted(scores, reverse=True)


ALL_SUBMITTED = ["2401.00001", "2401.00002", "2401.00003", "hep-th/9901001"]


async def tool_error(session: ClientSession, name: str, **args: Any) -> str:
    result: CallToolResult = await session.call_tool(name, args)
    assert result.is_error, (name, args, result.structured_content)
    return " ".join(getattr(block, "text", "") for block in result.content)


async def check_bad_inputs(session: ClientSession) -> None:
    """Unknown papers, malformed dates and out-of-range limits are tool errors that say why;
    the server goes on answering."""
    await session.initialize()
    assert "2499.99999" in await tool_error(session, "get_paper", paper_id="2499.99999")
    assert "YYYY-MM-DD" in await tool_error(session, "daily_papers", date="2024-13-45")
    assert "week" in await tool_error(session, "daily_papers", date="2024-01-10", week="2024-W02")
    assert "limit" in await tool_error(session, "search_papers", query="attention", limit=0)
    assert "empty" in await tool_error(session, "search_papers", query="   ")
    paper = await session.call_tool("get_paper", {"paper_id": "2401.00001"})
    assert not paper.is_error
