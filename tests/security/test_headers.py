"""The security headers are on every response: pages, errors, the framework's own 404/405/413
and 500s, including those Starlette's ServerErrorMiddleware answers outside every route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from paperfeed.web.headers import SECURITY_HEADERS


def assert_secured(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, dict(headers))


@pytest.fixture
def app(site: PaperFeed) -> FastAPI:
    return create_app(site)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def boom(*_args: object, **_kwargs: object) -> object:
    raise RuntimeError("forced failure with a secret detail")


def test_a_failing_core_method_answers_500_with_the_headers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PaperFeed, "latest_day", boom)
    for path in ("/", "/feeds/daily.atom"):
        response = client.get(path)
        assert response.status_code == 500
        assert "secret detail" not in response.text and "Traceback" not in response.text
        assert_secured(response)


def test_a_500_from_outside_every_route_carries_the_headers(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FastAPI's own OpenAPI route is no ErrorMappingRoute: its failure reaches Starlette's
    # ServerErrorMiddleware, which answers outside every middleware added with add_middleware.
    monkeypatch.setattr(app, "openapi", boom)
    response = client.get("/api/openapi.json")
    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert_secured(response)


def test_framework_answers_carry_the_headers(client: TestClient) -> None:
    too_large = client.post("/login", content=b"x" * (2 << 20))
    assert too_large.status_code == 413
    for response in (
        too_large,
        client.get("/no/such/page"),
        client.delete("/"),
        client.get("/static/style.css"),
        client.get("/api/docs"),
    ):
        assert_secured(response)
