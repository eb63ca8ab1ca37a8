"""Whatever people type, search answers (possibly with a message) and never raises; and a
query made of a paper's title words, however mangled, still finds that paper."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.dates import FIRST_DAY, LAST_DAY
from paperfeed.errors import Invalid
from paperfeed.ingest.files import read_jsonl
from paperfeed.models import Paper
from paperfeed.query import STOPWORDS, parse_query
from tests.support.fakes import HashingEmbedder
from tests.support.paths import DATA

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
    with PaperFeed(settings, embedder=HashingEmbedder()) as paperfeed:
        paperfeed.ingest(read_jsonl(DATA / "seed_papers.jsonl"))
        paperfeed.index()
        hidden = paperfeed.search(parse_query("binary")).hits[0].paper.id
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
    try:
        query = parse_query(
            text,
            category=category,
            author=author,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            limit=limit,
            offset=offset,
        )
    except Invalid as error:  # a clear 400, and only for a day outside the accepted span
        assert days and not all(FIRST_DAY <= day <= LAST_DAY for day in days), error
        return
    results = feed.search(query)
    assert len(results.hits) <= max(1, min(limit, 100))
    assert results.total >= 0
    assert feed.__dict__["hidden_id"] not in [h.paper.id for h in results.hits]
    assert results.message is None or isinstance(results.message, str)


def test_operator_soup_still_finds_papers(feed: PaperFeed) -> None:
    results = feed.search(parse_query('binary AND (networks OR periodic) NOT ^*: "function'))
    assert results.hits and "quote" in (results.message or "")
    assert all("function" in f"{h.paper.title} {h.paper.abstract}".lower() for h in results.hits)


# Stray symbols and operators that neither require nor exclude anything.
NOISE = ["^", "(", ")", "AND", "OR", "*", "%", ";", "{", "}", "🤖", "\u200b", '""', "$a<b$", ":"]
OPERATORS = {"AND", "OR", "NOT", "NEAR"}
FOUND_WITHIN = 50  # 344 seed papers: the paper must be on the first pages, not merely matched


def title_words(paper: Paper) -> list[str]:
    """The words of a title a query can be built from (no stop words, operators or letters)."""
    words = re.findall(r"\w+", paper.title)
    return [
        w
        for w in dict.fromkeys(words)
        if len(w) >= 3 and w.lower() not in STOPWORDS and w.upper() not in OPERATORS
    ]


@pytest.fixture(scope="module")
def known(feed: PaperFeed) -> list[Paper]:
    """The visible seed papers with at least three title words to search for."""
    keys, _ = feed.store.papers.list_keys(parse_query(""), 1000)
    papers = feed.store.papers.papers_by_keys(keys)
    assert len(papers) > 300 and feed.__dict__["hidden_id"] not in [p.id for p in papers]
    return [p for p in papers if len(title_words(p)) >= 3]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mangled_title_finds_its_paper(
    feed: PaperFeed, known: list[Paper], data: st.DataObject
) -> None:
    paper = data.draw(st.sampled_from(known), label="paper")
    words = data.draw(st.permutations(title_words(paper)), label="order")
    cased = [
        data.draw(st.sampled_from([w, w.lower(), w.upper(), w.title()]), label="case")
        for w in words
    ]
    if data.draw(st.booleans(), label="quote a word"):
        cased[0] = f'"{cased[0]}"'  # a required word the paper has
    noise = data.draw(st.lists(st.sampled_from(NOISE), max_size=6), label="noise")
    tokens = data.draw(st.permutations(cased + noise), label="mixed")
    mode = data.draw(st.sampled_from(["hybrid", "keyword"]), label="mode")

    results = feed.search(parse_query(" ".join(tokens), limit=FOUND_WITHIN), mode=mode)

    assert results.hits, results.message
    assert paper.id in [h.paper.id for h in results.hits], (paper.title, results.message)
