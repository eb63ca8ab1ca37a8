import ast
import datetime as dt
import gzip
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from paperfeed.ingest.base import Record
from paperfeed.ingest.hf_daily import fetch_hf_daily, iter_hf_daily_items, read_hf_daily
from paperfeed.models import SkippedRecord
from tests.support.paths import DATA
from tests.support.recorded_server import RecordedServer, Reply

HF = DATA / "hf_daily_papers"
RAW = sorted((HF / "raw").glob("*.json"))
REPR_DAY = HF / "raw" / "2024-12-11.json"


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def records(items: list) -> list[Record]:
    return [i for i in items if isinstance(i, Record)]


@pytest.mark.parametrize("path", RAW, ids=[p.stem for p in RAW])
def test_every_raw_day_parses_fully_onto_its_day(path: Path) -> None:
    expected = len(json.loads(path.read_text()))
    items = list(read_hf_daily(path))
    assert len(records(items)) == expected == len(items)
    day = dt.date.fromisoformat(path.stem)
    assert {r.submission.day for r in records(items)} == {day}
    assert all(r.paper.source == r.submission.source == "hf-daily" for r in records(items))
    assert all(r.submission.paper_id == r.paper.id for r in records(items))


def test_python_repr_day_parses_like_json() -> None:
    raw = json.loads(REPR_DAY.read_text())
    assert all(isinstance(item, str) for item in raw)
    got = records(list(read_hf_daily(REPR_DAY)))
    assert [r.paper.id for r in got] == [ast.literal_eval(item)["paper"]["id"] for item in raw]
    first = got[0]
    assert first.paper.id == "2412.07730"
    assert first.paper.authors[:4] == ["Zongyu Lin", "Wei Liu", "Chen Chen", "Jiasen Lu"]
    assert (first.submission.submitter, first.submission.imported_upvotes) == ("yyf86", 54)


def test_new_format_item_values() -> None:
    first = records(list(read_hf_daily(HF / "raw" / "2026-07-27.json")))[0]
    assert first.paper.id == "2607.22529"
    assert first.paper.title.startswith("Skill Self-Play: Pushing the Frontier of LLM Capability")
    assert first.paper.authors[0] == "Siyuan Huang"
    assert first.paper.published == utc(2026, 7, 24)
    assert first.paper.version is None
    assert first.paper.abs_url == "https://arxiv.org/abs/2607.22529"
    sub = first.submission
    assert (sub.day, sub.submitted_at) == (dt.date(2026, 7, 27), utc(2026, 7, 27))
    assert (sub.submitter, sub.imported_upvotes) == ("taesiri", 19)


def test_old_format_items_use_the_item_time_and_submitted_by() -> None:
    first = records(list(read_hf_daily(HF / "raw" / "2024-05-27.json")))[0]
    assert first.paper.id == "2405.15738"
    assert first.submission.submitter is None  # the oldest responses do not say who
    assert first.submission.imported_upvotes == 32
    assert first.submission.submitted_at == utc(2024, 5, 27, 3, 50, 58, 348000)
    second = records(list(read_hf_daily(HF / "raw" / "2024-06-24.json")))[1]
    assert (second.paper.id, second.submission.submitter) == ("2406.12624", "singh96aman")
    assert second.submission.imported_upvotes == 14
    assert second.submission.submitted_at == utc(2024, 6, 24, 4, 30, 36, 584000)


def test_items_dump_matches_the_raw_days() -> None:
    items = list(read_hf_daily(HF / "items.jsonl.gz"))
    got = records(items)
    assert len(got) == len(items) == 9881
    per_day = Counter(r.submission.day.isoformat() for r in got)
    for path in RAW:
        assert per_day[path.stem] == len(json.loads(path.read_text())), path.stem


def test_malformed_items_are_skipped_with_their_position(tmp_path: Path) -> None:
    good = json.loads((HF / "raw" / "2026-07-27.json").read_text())[0]
    no_summary = json.loads(json.dumps(good))
    no_summary["paper"]["summary"] = no_summary["summary"] = ""  # the item repeats it
    bad_id = json.loads(json.dumps(good))
    bad_id["paper"]["id"] = "paper-42"
    obj = [good, {"title": "no paper"}, "{'paper': broken", no_summary, bad_id, 7]
    items = list(iter_hf_daily_items(obj, day=dt.date(2026, 7, 27), location="resp"))
    assert [type(i).__name__ for i in items] == ["Record"] + ["SkippedRecord"] * 5
    reasons = {i.location: i.reason for i in items if isinstance(i, SkippedRecord)}
    assert reasons["resp#item 1"] == "item without a paper"
    assert reasons["resp#item 2"].startswith("unreadable item")
    assert reasons["resp#item 3"] == "missing abstract"
    assert "not an arXiv id" in reasons["resp#item 4"]


def test_jsonl_lines_with_file_date_and_bad_lines(tmp_path: Path) -> None:
    item = json.loads((HF / "raw" / "2024-05-27.json").read_text())[0]
    lines = ["{oops", json.dumps(dict(item, file_date="2024-05-28")), json.dumps(item)]
    path = tmp_path / "items.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    items = list(read_hf_daily(path, day=dt.date(2024, 5, 27)))
    assert items[0] == SkippedRecord(f"{path}:1", items[0].reason)  # a bad first line too
    assert items[0].reason.startswith("invalid JSON")
    assert items[1].submission.day == dt.date(2024, 5, 28)
    assert items[2].submission.day == dt.date(2024, 5, 27)


def test_wrapped_response_takes_its_date() -> None:
    data = json.loads((HF / "raw" / "2024-05-27.json").read_text())
    wrapped = {"status": "ok", "date": "2024-05-27", "count": len(data), "data": data}
    got = records(list(iter_hf_daily_items(wrapped)))
    assert len(got) == 13
    assert {r.submission.day for r in got} == {dt.date(2024, 5, 27)}


def test_fetch_from_a_local_server() -> None:
    body = REPR_DAY.read_bytes()
    with RecordedServer() as server:
        server.serve(
            "/api/daily_papers",
            Reply(body=body, content_type="application/json"),
            query={"date": "2024-12-11"},
        )
        with httpx.Client() as client:
            got = records(list(fetch_hf_daily("2024-12-11", endpoint=server.url, client=client)))
        assert server.requests[0].params == {"date": "2024-12-11"}
    assert len(got) == 26
    assert got[0].submission.submitter == "yyf86"


def test_fetch_raises_on_http_errors() -> None:
    with RecordedServer() as server:
        server.serve("/api/daily_papers", Reply(body="down", status=500))
        with pytest.raises(httpx.HTTPStatusError):
            list(fetch_hf_daily(dt.date(2024, 12, 11), endpoint=server.url))
