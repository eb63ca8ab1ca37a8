"""The OpenAPI document: every JSON route has a real 200 schema and documents its errors, the
closed choices are enums, the markdown and the feeds have their media types, the API is rate
limited per address, and the JSON keeps the Hub's shape (unknown fields left out)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from paperfeed.web.limits import Limit, RateLimits
from paperfeed.web.openapi import OPENAPI_PATH

JSON_ROUTES = ["/api/daily_papers", "/api/papers/search", "/api/papers/{paper_id}"]


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get(OPENAPI_PATH)
    assert response.status_code == 200
    return response.json()


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_every_json_route_has_a_typed_200_and_documented_errors(
    document: dict[str, Any], path: str
) -> None:
    operation = document["paths"][path]["get"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    item = resolve(document, ok.get("items", ok))
    assert item["type"] == "object" and item["properties"], path
    assert {"400", "413", "429"} <= set(operation["responses"])
    assert "422" not in operation["responses"]  # malformed parameters are answered 400
    error = operation["responses"]["400"]["content"]["application/json"]["schema"]
    assert resolve(document, error)["required"] == ["error"]


def test_an_unknown_paper_is_a_documented_404(document: dict[str, Any]) -> None:
    assert "404" in document["paths"]["/api/papers/{paper_id}"]["get"]["responses"]


def test_sort_is_an_enum_of_the_hub_orders(document: dict[str, Any]) -> None:
    parameters = document["paths"]["/api/daily_papers"]["get"]["parameters"]
    sort = next(p for p in parameters if p["name"] == "sort")
    choices = [resolve(document, s) for s in sort["schema"]["anyOf"] if "$ref" in s]
    assert choices[0]["enum"] == ["publishedAt", "trending", "upvotes"]


def test_markdown_and_feeds_declare_their_media_types(document: dict[str, Any]) -> None:
    markdown = document["paths"]["/papers/{paper_id}.md"]["get"]["responses"]["200"]["content"]
    assert list(markdown) == ["text/markdown"]
    for feed in ("/feeds/daily.atom", "/feeds/trending.atom", "/feeds/search.atom"):
        content = document["paths"][feed]["get"]["responses"]["200"]["content"]
        assert [media.split(";")[0] for media in content] == ["application/atom+xml"]


def test_html_pages_are_not_part_of_the_api_document(document: dict[str, Any]) -> None:
    assert "/login" not in document["paths"] and "/" not in document["paths"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_a_bad_sort_is_a_400_naming_the_choices(app: FastAPI) -> None:
    with TestClient(app) as client:
        response = client.get("/api/daily_papers", params={"sort": "newest"})
    assert response.status_code == 400
    assert "'publishedAt', 'trending' or 'upvotes'" in response.json()["error"]


def test_markdown_is_served_as_text_markdown(app: FastAPI) -> None:
    with TestClient(app) as client:
        response = client.get("/papers/2401.00001.md")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"


def test_unknown_values_are_left_out_not_null(app: FastAPI) -> None:
    with TestClient(app) as client:
        paper = client.get("/api/papers/2401.00009").json()  # no date, DOI or submission
    assert paper["id"] == "2401.00009"
    assert None not in paper.values()
    assert not {"publishedAt", "submittedOnDailyAt", "doi", "journalRef"} & set(paper)


def test_the_api_is_rate_limited_per_address(site: PaperFeed) -> None:
    limited = create_app(site, rate_limits=RateLimits(api=Limit(3, 60)))
    with TestClient(limited) as client:
        answers = [client.get("/api/daily_papers").status_code for _ in range(4)]
        markdown = client.get("/papers/2401.00001.md").status_code
        page = client.get("/about").status_code
    assert answers == [200, 200, 200, 429]
    assert markdown == 429 and page == 200


def test_the_rate_limit_follows_the_setting(site: PaperFeed) -> None:
    from dataclasses import replace

    site.settings = replace(site.settings, api_requests_per_minute=2)
    try:
        with TestClient(create_app(site)) as client:
            answers = [client.get("/api/papers/2401.00001").status_code for _ in range(3)]
    finally:
        site.settings = replace(site.settings, api_requests_per_minute=600)
    assert answers == [200, 200, 429]
