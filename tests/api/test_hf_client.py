"""The real ``huggingface_hub`` client, unchanged, against a live server on a free port."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError
from huggingface_hub.hf_api import PaperInfo

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from tests.support.api import KNOWN, make_app
from tests.support.hub import HF_RAW, raw_day
from tests.support.net import uvicorn_serving

HF_DAY = "2024-10-14"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HfApi]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("hf") / "data", secret_key="test")
    with PaperFeed(settings) as feed:
        feed.ingest(iter(KNOWN))
        feed.store.papers.set_paper_hidden("2405.00009", True)
        with uvicorn_serving(make_app(feed)) as url:
            yield HfApi(endpoint=url, token=False)


def test_list_daily_papers_for_a_day(api: HfApi) -> None:
    papers = list(api.list_daily_papers(date="2024-05-27"))
    assert all(isinstance(p, PaperInfo) for p in papers)
    assert [(p.id, p.title, p.upvotes) for p in papers] == [
        ("2405.00002", "Diffusion models for images", 12),
        ("2405.00001", "Sparse attention transformers", 5),
    ]
    first = papers[0]
    assert [a.name for a in first.authors] == ["Ada Lovelace", "Alan Turing"]
    assert first.summary == "We study diffusion models for images and report results."
    assert first.published_at.isoformat() == "2024-05-20T00:00:00+00:00"
    assert first.submitted_at.isoformat() == "2024-05-27T09:00:00+00:00"
    assert first.submitted_by.username == "bob"
    assert first.comments == 0


def test_list_daily_papers_week_month_submitter_sort_and_pages(api: HfApi) -> None:
    week = [p.id for p in api.list_daily_papers(week="2024-W22")]
    assert week == ["2405.00002", "2405.00001", "hep-th/9901001", "2405.00003"]
    assert [p.id for p in api.list_daily_papers(month="2024-05")] == week
    assert [p.id for p in api.list_daily_papers(month="2024-05", submitter="bob")] == [
        "2405.00002",
        "hep-th/9901001",
    ]
    newest = [p.id for p in api.list_daily_papers(week="2024-W22", sort="publishedAt")]
    assert newest == ["hep-th/9901001", "2405.00003", "2405.00002", "2405.00001"]
    trending = [p.id for p in api.list_daily_papers(week="2024-W22", sort="trending")]
    assert sorted(trending) == sorted(week)
    assert [p.id for p in api.list_daily_papers(week="2024-W22", p=1, limit=3)] == week[3:]


def test_list_daily_papers_malformed_date_raises_bad_request(api: HfApi) -> None:
    with pytest.raises(BadRequestError) as caught:
        list(api.list_daily_papers(date="2024-13-45"))
    assert caught.value.response.status_code == 400
    assert "YYYY-MM-DD" in str(caught.value)


def test_paper_info(api: HfApi) -> None:
    info = api.paper_info("hep-th/9901001")
    assert (info.id, info.title, info.upvotes) == ("hep-th/9901001", "Strings on a circle", 3)
    assert info.submitted_at.isoformat() == "2024-05-29T02:00:00+00:00"
    assert info.submitted_by.username == "bob"
    assert api.paper_info("2405.00003v2").id == "2405.00003"


@pytest.mark.parametrize("paper_id", ["2499.99999", "2405.00009"])
def test_unknown_paper_raises_the_clients_http_error(api: HfApi, paper_id: str) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        api.paper_info(paper_id)
    assert caught.value.response.status_code == 404
    assert paper_id in str(caught.value)


def test_read_paper_markdown(api: HfApi) -> None:
    text = api.read_paper("2405.00001")
    assert text.startswith("# Sparse attention transformers")
    assert "https://arxiv.org/pdf/2405.00001" in text


@pytest.mark.skipif(
    not hasattr(PaperFeed, "search"), reason="PaperFeed.search (search helper) has not landed yet"
)
def test_list_papers_query(api: HfApi) -> None:
    found = list(api.list_papers(query="strings circle", limit=3))
    assert found[0].id == "hep-th/9901001"
    assert len(found) <= 3


# -- a real Hugging Face day, imported and served back --------------------------------------------


@pytest.fixture(scope="module")
def hf_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HfApi]:
    hf_daily = pytest.importorskip(
        "paperfeed.ingest.hf_daily", reason="the HF daily importer has not landed yet"
    )
    if not HF_RAW.is_dir():
        pytest.skip(f"no shared data at {HF_RAW}")
    settings = Settings(data_dir=tmp_path_factory.mktemp("hf_real") / "data", secret_key="test")
    with PaperFeed(settings) as feed:
        report = feed.ingest(hf_daily.read_hf_daily(HF_RAW / f"{HF_DAY}.json"))
        assert report.submissions == len(raw_day(HF_DAY))
        with uvicorn_serving(make_app(feed)) as url:
            yield HfApi(endpoint=url, token=False)


def test_real_day_round_trips_through_the_client(hf_api: HfApi) -> None:
    raw = raw_day(HF_DAY)
    served = list(hf_api.list_daily_papers(date=HF_DAY, limit=100))
    assert len(served) == len(raw)
    assert {p.id for p in served} == {item["paper"]["id"] for item in raw}
    by_id = {p.id: p for p in served}
    for item in raw:
        expected = PaperInfo(**json.loads(json.dumps(item)))  # as the client parses the Hub
        got = by_id[expected.id]
        assert " ".join(got.title.split()) == " ".join(expected.title.split())
        assert got.upvotes == expected.upvotes
        assert [a.name for a in got.authors] == [a.name for a in expected.authors]
        assert got.submitted_at == expected.submitted_at  # this day's items carry submission times
        by = item.get("submittedBy") or {}
        assert got.submitted_by.username == (by.get("user") or by.get("name"))
    votes = [p.upvotes or 0 for p in served]
    assert votes == sorted(votes, reverse=True)


def test_real_paper_info(hf_api: HfApi) -> None:
    item = max(raw_day(HF_DAY), key=lambda i: i["paper"]["upvotes"])
    info = hf_api.paper_info(item["paper"]["id"])
    assert info.upvotes == item["paper"]["upvotes"]
    assert " ".join(info.summary.split()) == " ".join(item["paper"]["summary"].split())
