"""Request bodies are limited (PAPERFEED_MAX_BODY_BYTES): a larger one is answered 413 without
being read to the end, whether it declares its length or arrives chunked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.errors import Invalid
from paperfeed.web.app import create_app
from tests.support.fakes import HashingEmbedder

CHUNK = 64 * 1024
FIVE_MB = 5 * 1024 * 1024
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post(app: FastAPI, path: str, headers: dict[str, str]) -> tuple[httpx.Response, int]:
    """POST a 5 MB body to `path` in 64 KiB chunks; (response, bytes the app asked for)."""
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(FIVE_MB // CHUNK):
            pulled += CHUNK
            yield b"a" * CHUNK

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(path, content=body(), headers={**FORM, **headers})

    return asyncio.run(send()), pulled


@pytest.fixture
def app(site: PaperFeed) -> FastAPI:
    return create_app(site)


@pytest.mark.parametrize("path", ["/login", "/subscribe", "/api/daily_papers"])
def test_a_declared_5_mb_body_is_refused_unread(app: FastAPI, path: str) -> None:
    response, pulled = post(app, path, {"Content-Length": str(FIVE_MB)})
    assert response.status_code == 413
    assert "Too Large" in response.text
    assert pulled <= CHUNK  # at most what the transport had buffered, never the rest
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_chunked_5_mb_body_is_refused_once_past_the_limit(app: FastAPI) -> None:
    response, pulled = post(app, "/login", {})
    assert response.status_code == 413
    assert "at most 1,048,576 bytes" in response.text
    assert pulled <= 1024 * 1024 + 2 * CHUNK < FIVE_MB


def test_the_limit_is_a_setting(site: PaperFeed) -> None:
    settings = replace(site.settings, max_body_bytes=1000)
    with PaperFeed(settings, embedder=HashingEmbedder()) as feed:
        with TestClient(create_app(feed), raise_server_exceptions=False) as client:
            form = {"username": "alice", "password": "x" * 600}
            assert client.post("/login", data=form).status_code == 403  # no CSRF token
            form["password"] = "x" * 1200
            assert client.post("/login", data=form).status_code == 413
        with pytest.raises(Invalid, match="PAPERFEED_MAX_BODY_BYTES"):
            create_app(PaperFeed(replace(settings, max_body_bytes=-1)))
