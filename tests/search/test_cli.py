"""`paperfeed search`, `similar` and `index` on the real seed papers, with the real model."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from paperfeed.cli import main
from paperfeed.store.tantivy_keyword import MARKER
from tests.support.paths import DATA

Run = Callable[..., Result]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None) -> Run:
    data_dir: Path = tmp_path_factory.mktemp("cli")
    base = ["--data-dir", str(data_dir)]
    base += ["--database-url", module_database_url] if module_database_url else []

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(main, [*base, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    invoke("ingest", "jsonl", str(DATA / "seed_papers.jsonl"))
    return invoke


def test_search_prints_title_author_count_date_and_snippet(run: Run) -> None:
    out = run("search", "binary", "neural", "networks", "periodic").output
    first = out.split("\n  2.")[0]
    assert "BiPer: Binary Neural Networks using a Periodic Function" in first
    assert re.search(r"\d+ authors? · \d{4}-\d{2}-\d{2}", first)
    assert "neural networks" in first.lower().split("\n", 2)[2]  # the snippet line
    assert re.search(r"1-10 of [\d,]+", out)


def test_search_json_and_odd_input(run: Run) -> None:
    hits = json.loads(run("search", "--json", "--limit", "3", "binary networks").stdout)["hits"]
    assert len(hits) == 3 and all(h["title"] and "authors" in h for h in hits)
    for text in ('"unbalanced', "AND OR NOT", "*", "🤖 " * 50, "x" * 10_000):
        run("search", text)  # exit code 0, whatever was typed


def test_index_then_similar_then_rebuild(run: Run) -> None:
    first = run("index").output
    assert re.search(r"embedded \d+ papers", first)
    assert "Nothing new to embed" in run("index").output  # a no-op the second time
    found = json.loads(run("search", "--json", "--limit", "1", "binary periodic").stdout)["hits"]
    similar = json.loads(run("similar", "--json", "--limit", "5", found[0]["id"]).stdout)
    assert len(similar) == 5 and found[0]["id"] not in [p["id"] for p in similar]
    rebuilt = run("index", "--rebuild").output
    assert "rebuilt the vector index" in rebuilt and "rebuilt the keyword index" in rebuilt
    again = json.loads(run("search", "--json", "--limit", "1", "binary periodic").stdout)["hits"]
    assert again[0]["id"] == found[0]["id"]


@pytest.mark.backends("sqlite")
def test_serve_catches_up_the_keyword_index_before_serving(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    base = ["--data-dir", str(tmp_path)]
    CliRunner().invoke(main, [*base, "ingest", "jsonl", str(DATA / "seed_papers.jsonl")])
    keywords = tmp_path / "paperfeed.db.keywords"
    shutil.rmtree(keywords)  # as if an upgrade had dropped an index of an older format
    served: list[bool] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append((keywords / MARKER).exists()))
    result = CliRunner().invoke(main, [*base, "serve", "--no-index"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert served == [True]
