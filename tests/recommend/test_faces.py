"""`paperfeed recommend` and ``POST /api/recommend``: a library in, ranked papers with reasons
out; bad input is a clear 4xx (or a message), never a crash, and nothing is stored."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from tests.recommend.papers import TODAY, store_topic_papers
from tests.support.api import make_app

SPEECH_BIB = """% Zotero export
@article{hopper_streaming,
  title = {Speech {Streaming} 2601.00001},
  author = {Hopper, Grace and Kay, Alan},
  eprint = {2601.00001}, archivePrefix = {arXiv},
}
@article{hopper_noisy, title = {Speech noisy 2601.00002}, author = {Hopper, Grace}, year = 2026}
@article{broken, title = {never closed
@misc{elsewhere,
  title = {Spoken audio transcription for children},
  abstract = {We study speech recognition of children's spoken audio transcription.},
  doi = {10.9999/not.in.store},
}
"""
WINDOW = ["--since", (TODAY - dt.timedelta(days=6)).isoformat(), "--until", TODAY.isoformat()]


def test_cli_prints_json_with_id_title_score_reason(settings: Settings, tmp_path: Path) -> None:
    with PaperFeed(settings) as feed:  # the deployment's own model, as `paperfeed` uses it
        store_topic_papers(feed)
    library = tmp_path / "library.bib"
    library.write_text(SPEECH_BIB)
    base = ["--data-dir", str(settings.data_dir)]
    base += ["--database-url", settings.database_url] if settings.database_url else []

    result = CliRunner().invoke(
        main, [*base, "recommend", str(library), *WINDOW, "--limit", "3", "--json"]
    )

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [set(row) for row in rows] == [{"id", "title", "score", "reason"}] * len(rows)
    assert rows[0]["id"] in {"2603.00010", "2603.00011"} and len(rows) == 3
    assert rows[0]["reason"].startswith("like '") and rows[0]["score"] >= rows[-1]["score"]
    assert f"{library}:8: skipped: malformed BibTeX entry" in result.stderr
    assert f"{library}:9: not in the store: 10.9999/not.in.store" in result.stderr
    assert "2 of 3 entries are in the store (bibtex)" in result.stderr
    plain = CliRunner().invoke(main, [*base, "recommend", str(library), *WINDOW])
    assert plain.exit_code == 0 and "1. 2603.000" in plain.stdout
    bad = CliRunner().invoke(main, [*base, "recommend", str(library), "--since", "2026-13-01"])
    assert bad.exit_code == 2 and "--since" in bad.output


@pytest.fixture
def client(feed: PaperFeed) -> TestClient:
    store_topic_papers(feed)
    return TestClient(make_app(feed))


def test_api_ranks_a_json_list_of_ids(client: TestClient, feed: PaperFeed) -> None:
    before = feed.stats()
    response = client.post(
        "/api/recommend?limit=2", json=["2601.00001", "arXiv:2601.00002", "2601.00003"]
    )

    assert response.status_code == 200, response.text
    rows = response.json()
    assert [r["id"] for r in rows] in (["2603.00010", "2603.00011"], ["2603.00011", "2603.00010"])
    assert [set(r) for r in rows] == [{"id", "title", "score", "reason"}] * 2
    assert rows[0]["reason"].endswith("in your library")
    assert feed.stats() == before  # nothing stored


def test_api_ranks_a_bibtex_body(client: TestClient) -> None:
    response = client.post(
        f"/api/recommend?since={TODAY - dt.timedelta(days=6)}&until={TODAY}",
        content=SPEECH_BIB.encode(),
        headers={"Content-Type": "application/x-bibtex; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    rows = response.json()
    assert rows and {r["id"] for r in rows[:2]} == {"2603.00010", "2603.00011"}
    # an entry the store lacks is an interest too: its title and abstract
    elsewhere = SPEECH_BIB[SPEECH_BIB.index("@misc") :].encode()
    response = client.post(
        f"/api/recommend?until={TODAY}",
        content=elsewhere,
        headers={"Content-Type": "text/x-bibtex"},
    )
    assert response.status_code == 200, response.text
    first = response.json()[0]
    assert first["id"] in {"2603.00010", "2603.00011"}
    assert first["reason"] == "like 'Spoken audio transcription for children' in your library"


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"{not json", 400),
        ("application/json", b'{"ids": ["2601.00001"]}', 400),
        ("application/json", b"[1, 2, 3]", 400),
        ("application/json", json.dumps(["x"] * 6000).encode(), 400),
        ("application/pdf", b"%PDF-1.4", 400),
        ("", b"2601.00001", 400),
        ("application/x-bibtex", b"@article{x, title = {" + b"{" * 5000, 200),
        ("text/plain", "\u0000\ud7ff💥 \x1b[31m".encode("utf-8", "surrogatepass"), 200),
        ("application/vnd.citationstyles.csl+json", b"[" * 100_000, 200),
        ("application/x-bibtex", b"@article{x," + b" " * (11 * 1024 * 1024), 413),
    ],
)
def test_api_hostile_input_is_a_4xx_never_a_500(
    client: TestClient, content_type: str, body: bytes, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/recommend", content=body, headers=headers)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json() == []
    elif status == 400:
        assert response.json()["error"]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=100000", "since=2026-02-30", "since=2026-03-10&until=2026-03-01"]
)
def test_api_bad_window_or_limit_is_a_4xx(client: TestClient, query: str) -> None:
    response = client.post(f"/api/recommend?{query}", json=["2601.00001"])
    assert response.status_code in (400, 422), response.text
