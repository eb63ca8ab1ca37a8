"""`paperfeed mcp` spawned by the SDK's stdio client over a data directory holding the
populated site (embedded by the real default model, as `paperfeed index` would)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from tests.mcp.expectations import check_bad_inputs, check_every_tool
from tests.support.web import load_fixture_papers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("stdio") / "data"
    with PaperFeed(Settings(data_dir=data_dir, secret_key="stdio")) as feed:
        load_fixture_papers(feed)
        feed.index()
    yield data_dir


async def over_stdio(data_dir: Path, check) -> None:  # type: ignore[no-untyped-def]
    command = StdioServerParameters(
        command=sys.executable,
        args=["-m", "paperfeed", "--data-dir", str(data_dir), "mcp"],
        env={"PAPERFEED_SECRET_KEY": "stdio"},
    )
    async with stdio_client(command) as (read, write), ClientSession(read, write) as session:
        await check(session)


def test_every_tool_answers_to_its_output_schema(data_dir: Path) -> None:
    asyncio.run(over_stdio(data_dir, check_every_tool))


def test_bad_input_is_a_tool_error(data_dir: Path) -> None:
    asyncio.run(over_stdio(data_dir, check_bad_inputs))
