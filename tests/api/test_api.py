"""The JSON API through FastAPI's TestClient: shapes, filters, paging, sorting and errors."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.listings import trending_score
from tests.support.api import make_app, record

DAY = "/api/daily_papers"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["paper"]["id"] for item in response.json()]


def test_day_lists_visible_submissions_most_upvoted_first(client: TestClient) -> None:
    assert ids(client.get(DAY, params={"date": "2024-05-27"})) == ["2405.00002", "2405.00001"]


def test_daily_item_has_the_hub_fields(client: TestClient) -> None:
    item = client.get(DAY, params={"date": "2024-05-27"}).json()[0]
    paper = item["paper"]
    assert paper["title"] == item["title"] == "Diffusion models for images"
    assert paper["summary"] == item["summary"]
    assert paper["upvotes"] == 12
    assert [a["name"] for a in paper["authors"]] == ["Ada Lovelace", "Alan Turing"]
    assert all(len(a["_id"]) == 24 and a["hidden"] is False for a in paper["authors"])
    assert len({a["_id"] for a in paper["authors"]}) == 2
    assert paper["publishedAt"] == "2024-05-20T00:00:00.000Z"
    assert paper["submittedOnDailyAt"] == item["publishedAt"] == "2024-05-27T09:00:00.000Z"
    assert item["submittedBy"]["name"] == paper["submittedOnDailyBy"]["user"] == "bob"
    assert item["numComments"] == 0 and item["isAuthorParticipating"] is False


def test_sort_published_at_is_newest_submission_first(client: TestClient) -> None:
    got = ids(client.get(DAY, params={"date": "2024-05-27", "sort": "publishedAt"}))
    assert got == ["2405.00002", "2405.00001"]
    week = ids(client.get(DAY, params={"week": "2024-W22", "sort": "publishedAt"}))
    assert week == ["hep-th/9901001", "2405.00003", "2405.00002", "2405.00001"]


def test_week_and_month_cover_their_days(client: TestClient) -> None:
    expected = ["2405.00002", "2405.00001", "hep-th/9901001", "2405.00003"]
    assert ids(client.get(DAY, params={"week": "2024-W22"})) == expected
    assert ids(client.get(DAY, params={"month": "2024-05"})) == expected
    assert ids(client.get(DAY, params={"month": "2024-06"})) == []
    assert ids(client.get(DAY, params={"week": "2024-W21"})) == []


def test_without_a_period_every_day_is_listed_newest_first(client: TestClient) -> None:
    got = ids(client.get(DAY))
    assert got == ["hep-th/9901001", "2405.00003", "2405.00002", "2405.00001"]


def test_submitter_filter(client: TestClient) -> None:
    assert ids(client.get(DAY, params={"month": "2024-05", "submitter": "bob"})) == [
        "2405.00002",
        "hep-th/9901001",
    ]
    assert ids(client.get(DAY, params={"submitter": "nobody"})) == []


def test_pages_do_not_overlap(client: TestClient) -> None:
    pages = [
        ids(client.get(DAY, params={"month": "2024-05", "limit": 3, "p": p})) for p in range(3)
    ]
    assert [len(page) for page in pages] == [3, 1, 0]
    assert pages[0] + pages[1] == ids(client.get(DAY, params={"month": "2024-05"}))


def test_limit_is_capped_at_100(feed: PaperFeed) -> None:
    feed.ingest(
        iter(record(f"2406.{n:05d}", f"Paper {n}", day="2024-06-03", upvotes=n) for n in range(105))
    )
    with TestClient(make_app(feed)) as client:
        assert len(ids(client.get(DAY, params={"date": "2024-06-03", "limit": 1000}))) == 100
        assert len(ids(client.get(DAY, params={"date": "2024-06-03", "p": 1, "limit": 100}))) == 5


def test_trending_favours_fresh_submissions_over_older_votes(feed: PaperFeed) -> None:
    feed.ingest(
        iter(
            [
                record("2406.00001", "Older but voted", day="2024-06-03", hour=0, upvotes=3),
                record("2406.00002", "Fresh", day="2024-06-09", hour=20, upvotes=1),
            ]
        )
    )
    week = {"week": "2024-W23"}
    with TestClient(make_app(feed)) as client:
        by_votes = ids(client.get(DAY, params=week))
        by_trend = ids(client.get(DAY, params={**week, "sort": "trending"}))
    assert by_votes == ["2406.00001", "2406.00002"]
    assert by_trend == ["2406.00002", "2406.00001"]
    # ranked as of the end of that week: 4 hours against 164 hours of age
    assert trending_score(1, 4, 1.8) > trending_score(3, 164, 1.8)


def test_trending_without_a_period_ranks_the_last_active_week(client: TestClient) -> None:
    got = ids(client.get(DAY, params={"sort": "trending"}))
    assert sorted(got) == ["2405.00001", "2405.00002", "2405.00003", "hep-th/9901001"]
    bob = ids(client.get(DAY, params={"sort": "trending", "submitter": "bob"}))
    assert bob == [i for i in got if i in ("2405.00002", "hep-th/9901001")]
    assert ids(client.get(DAY, params={"sort": "trending", "p": 1, "limit": 3})) == got[3:]


def test_a_page_far_beyond_the_end_is_empty(client: TestClient) -> None:
    assert ids(client.get(DAY, params={"p": 10**6})) == []


@pytest.mark.parametrize(
    "params",
    [
        {"date": "2024-13-45"},
        {"date": "yesterday"},
        {"date": "2024-5-1"},
        {"week": "2024-W60"},
        {"week": "2024-22"},
        {"month": "2024-13"},
        {"date": "2024-05-27", "week": "2024-W22"},
        {"sort": "random"},
        {"limit": "abc"},
        {"limit": "0"},
        {"p": "-1"},
        {"p": "1.5"},
        {"p": str(10**30)},
    ],
)
def test_malformed_parameters_are_400_with_a_message(client: TestClient, params: dict) -> None:
    response = client.get(DAY, params=params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error"} and body["error"]
    assert "Traceback" not in response.text


def test_paper_info(client: TestClient) -> None:
    body = client.get("/api/papers/2405.00001").json()
    assert body["id"] == "2405.00001"
    assert body["title"] == "Sparse attention transformers"
    assert body["upvotes"] == 5
    assert body["submittedOnDailyAt"] == "2024-05-27T01:00:00.000Z"
    assert body["arxivUrl"] == "https://arxiv.org/abs/2405.00001"


def test_paper_info_accepts_versions_and_old_style_ids(client: TestClient) -> None:
    assert client.get("/api/papers/2405.00001v3").json()["id"] == "2405.00001"
    assert client.get("/api/papers/hep-th/9901001").json()["title"] == "Strings on a circle"


def test_paper_without_submission_has_no_submission_fields(client: TestClient) -> None:
    body = client.get("/api/papers/local:00000000000000aa").json()
    assert body["title"] == "A paper without arXiv id"
    assert "submittedOnDailyAt" not in body and "arxivUrl" not in body


@pytest.mark.parametrize("paper_id", ["2499.99999", "nonsense", "2405.00009", "a/b/c"])
def test_unknown_or_hidden_paper_is_404(client: TestClient, paper_id: str) -> None:
    response = client.get(f"/api/papers/{paper_id}")
    assert response.status_code == 404
    assert paper_id in response.json()["error"]


def test_hidden_submission_keeps_the_paper_but_not_the_feed_entry(
    client: TestClient, loaded: PaperFeed
) -> None:
    loaded.store.community.set_submission_hidden("2405.00001", True)
    assert "2405.00001" not in ids(client.get(DAY, params={"date": "2024-05-27"}))
    assert "submittedOnDailyAt" not in client.get("/api/papers/2405.00001").json()


def test_paper_markdown(client: TestClient) -> None:
    response = client.get("/papers/hep-th/9901001.md")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# Strings on a circle\n")
    assert "Ada Lovelace, Alan Turing" in text
    assert "We study strings on a circle and report results." in text
    assert "https://arxiv.org/abs/hep-th/9901001" in text
    assert "http://127.0.0.1:8000/papers/hep-th/9901001" in text
    assert client.get("/papers/2499.99999.md").status_code == 404


def test_timestamps_are_utc_with_milliseconds(client: TestClient) -> None:
    stamp = client.get("/api/papers/2405.00003").json()["submittedOnDailyAt"]
    assert dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ") == dt.datetime(2024, 5, 28, 3)


def test_openapi_documents_the_routes(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/daily_papers", "/api/papers/search", "/feeds/daily.atom"):
        assert path in spec["paths"]
    assert client.get("/api/docs").status_code == 200


def test_search_without_a_query_lists_the_newest_daily_papers(client: TestClient) -> None:
    newest = client.get("/api/papers/search", params={"limit": 2})
    assert [i["paper"]["id"] for i in newest.json()] == ["hep-th/9901001", "2405.00003"]
    assert client.get("/api/papers/search", params={"q": "  "}).status_code == 400


needs_search = pytest.mark.skipif(
    not hasattr(PaperFeed, "search"), reason="PaperFeed.search (search helper) has not landed yet"
)


@needs_search
def test_search_returns_hub_items(client: TestClient) -> None:
    response = client.get("/api/papers/search", params={"q": "diffusion images", "limit": 5})
    assert response.status_code == 200
    items = response.json()
    assert items[0]["paper"]["id"] == "2405.00002"
    assert items[0]["submittedBy"]["name"] == "bob"
    assert len(items) <= 5


@needs_search
def test_search_leaves_out_hidden_papers(client: TestClient) -> None:
    items = client.get("/api/papers/search", params={"q": "withdrawn paper"}).json()
    assert "2405.00009" not in [i["paper"]["id"] for i in items]


@needs_search
def test_search_limit_must_be_a_number(client: TestClient) -> None:
    response = client.get("/api/papers/search", params={"q": "x", "limit": "many"})
    assert response.status_code == 400 and "limit" in response.json()["error"]
