"""Whatever people type, search answers (possibly with a message) and never raises."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.files import read_jsonl
from paperfeed.search.service import SearchService
from tests.conftest import DATA
from tests.search.fakes import HashingEmbedder

SYNTAX = [
    '"',
    "'",
    "-",
    "+",
    "*",
    "^",
    ":",
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "author:",
    "cat:",
    "before:",
    "after:",
    "year:",
    "$a<b$",
    "\\alpha",
    "🤖",
    "\x00",
    "\x1b",
    "\u200b",
    "\n",
    " ",
    "cs.CL",
    "2024-13-45",
    "arXiv:2401.01234v2",
    "https://arxiv.org/abs/",
    "binary",
    "network",
    '""',
    "{",
    "}",
    "[",
    "]",
    "%",
    "_",
    "\\",
    ";",
    "--",
    "/*",
    "'; DROP TABLE papers; --",
]
queries = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(SYNTAX), max_size=30).map(" ".join),
    st.lists(st.sampled_from(SYNTAX), max_size=30).map("".join),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=5_000, max_size=10_000),
)


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperFeed]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("fuzz"))
    with PaperFeed(settings) as paperfeed:
        paperfeed.ingest(read_jsonl(DATA / "seed_papers.jsonl"))
        paperfeed.__dict__["search_service"] = SearchService(
            paperfeed.store, settings, embedder=HashingEmbedder()
        )
        paperfeed.index()
        hidden = paperfeed.search("binary").hits[0].paper.id
        paperfeed.store.papers.set_paper_hidden(hidden, True)
        paperfeed.__dict__["hidden_id"] = hidden
        yield paperfeed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=queries,
    sort=st.sampled_from(["relevance", "date", "upvotes", "bogus"]),
    limit=st.integers(-5, 500),
    offset=st.integers(-5, 50_000),
    category=st.none() | st.text(max_size=20),
    author=st.none() | st.text(max_size=30),
    days=st.none() | st.tuples(st.dates(), st.dates()),
)
def test_any_input_is_answered(
    feed: PaperFeed,
    text: str,
    sort: str,
    limit: int,
    offset: int,
    category: str | None,
    author: str | None,
    days: tuple[dt.date, dt.date] | None,
) -> None:
    date_from, date_to = days or (None, None)
    results = feed.search(
        text,
        limit=limit,
        offset=offset,
        sort=sort,
        category=category,
        author=author,
        date_from=date_from,
        date_to=date_to,
    )
    assert len(results.hits) <= max(1, min(limit, 100))
    assert results.total_estimate >= 0
    assert feed.__dict__["hidden_id"] not in [h.paper.id for h in results.hits]
    assert results.message is None or isinstance(results.message, str)


def test_operator_soup_still_finds_papers(feed: PaperFeed) -> None:
    results = feed.search('binary AND (networks OR periodic) NOT ^*: "function')
    assert results.hits and "quote" in (results.message or "")
    assert all("function" in f"{h.paper.title} {h.paper.abstract}".lower() for h in results.hits)
