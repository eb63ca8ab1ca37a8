"""Conditional GETs (ETag, Last-Modified, 304), HEAD on every GET route, and gzip."""

from __future__ import annotations

import email.utils
import gzip
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.http_cache.conftest import other_process
from tests.support.web import log_in

CACHED = [
    "/",
    "/?date=2024-01-10",
    "/trending",
    "/search?q=attention",
    "/papers/2401.00001",
    "/papers/2401.00001.md",
    "/api/daily_papers?date=2024-01-10",
    "/api/papers/2401.00001",
    "/feeds/daily.atom",
    "/feeds/trending.atom",
]


@pytest.mark.parametrize("path", CACHED)
def test_a_matching_etag_or_date_is_answered_304(client: TestClient, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": 'W/"other"'}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = email.utils.parsedate_to_datetime(modified).timestamp() - 3600
    since = email.utils.formatdate(earlier, usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": since}).status_code == 200


def test_a_change_ends_the_304s(client: TestClient, site: PaperFeed) -> None:
    path = "/api/daily_papers?date=2024-01-10"
    first = client.get(path)
    alice = site.store.community.get_user_by_username("alice")
    assert alice is not None
    site.community.vote("2401.00001", alice)
    changed = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    since = client.get(path, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code in (200, 304)  # a change within the same second may not show
    assert changed.json()[0]["paper"]["upvotes"] == 6


SAMPLE_VALUES = {"paper_id": "2401.00001", "name": "Ada Lovelace", "category": "cs.CL"}


def all_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes, those of included routers too (the app includes them without prefixes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from all_routes(included.routes) if included is not None else [route]


def get_paths(app: FastAPI) -> list[str]:
    """Every GET route of the app, its parameters filled with sample values."""
    paths = []
    for route in all_routes(app.routes):
        if isinstance(route, APIRoute) and "GET" in route.methods:
            path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE_VALUES.get(m[1], "1"), route.path)
            paths.append(path)
    return [*paths, "/static/style.css"]


def test_head_answers_every_get_route_like_get_without_a_body(site: PaperFeed) -> None:
    app = create_app(site)
    paths = get_paths(app)
    assert {"/", "/trending", "/feeds/daily.atom", "/api/daily_papers"} <= set(paths)
    with TestClient(app) as client:
        log_in(client, "alice")  # pages for signed-in readers too
        for path in paths:
            got = client.get(path, follow_redirects=False)
            head = client.head(path, follow_redirects=False)
            assert head.status_code == got.status_code != 405, path
            assert head.content == b"", path
            assert head.headers.get("content-type") == got.headers.get("content-type"), path


@pytest.mark.parametrize(
    "path", ["/", "/papers/2401.00001", "/api/daily_papers", "/feeds/trending.atom"]
)
def test_gzip_only_when_accepted(client: TestClient, path: str) -> None:
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["vary"]
    assert packed.content == plain.content  # decoded by the client: the same document


def test_gzip_is_real_and_skips_tiny_bodies(client: TestClient) -> None:
    raw = client.stream("GET", "/api/daily_papers", headers={"Accept-Encoding": "gzip"})
    with raw as response:
        body = b"".join(response.iter_raw())
    assert gzip.decompress(body).startswith(b"[")
    tiny = client.get("/api/papers/0000.00000", headers={"Accept-Encoding": "gzip"})
    assert tiny.status_code == 404 and "content-encoding" not in tiny.headers


def test_cached_api_answers_count_against_the_api_limit(site: PaperFeed) -> None:
    with (
        other_process(site, api_requests_per_minute=3) as limited,
        TestClient(create_app(limited)) as client,
    ):
        statuses = [client.get("/api/daily_papers").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
