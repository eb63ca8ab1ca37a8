"""The web app served by a real uvicorn server in a thread, for the real ``huggingface_hub``
client, and the recorded Hugging Face days of the shared data."""

from __future__ import annotations

import ast
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.support.paths import DATA

HF_RAW = DATA / "hf_daily_papers" / "raw"
HF_DAYS = sorted(path.stem for path in HF_RAW.glob("*.json"))


def raw_day(day: str) -> list[dict[str, Any]]:
    """One recorded ``/api/daily_papers?date=`` answer as Hugging Face served it (the items
    of ``2024-12-11`` are Python reprs: read as the Python literals they are)."""
    items = json.loads((HF_RAW / f"{day}.json").read_text())
    return [ast.literal_eval(item) if isinstance(item, str) else item for item in items]


@contextmanager
def live_server(feed: PaperFeed) -> Iterator[str]:
    """Serve the app for `feed` with uvicorn in a thread; yields its base address."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(feed)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
