"""Links from imported data pass one http(s) allow-list (paperfeed.links.safe_url) on their way
into the store and into every output: HTML pages, Atom feeds, the Hub API's JSON, markdown and
digest e-mails. Markdown shows imported HTML as text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt

from paperfeed.config import Settings, SmtpSettings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.ingest.files import read_jsonl
from paperfeed.links import safe_url
from paperfeed.models import Paper
from paperfeed.web.app import create_app
from tests.support.digest import BASE_URL, SENDER, Recorder, make_service
from tests.support.factories import DAY, make_submission
from tests.support.fakes import HashingEmbedder

# Every payload calls alert( or msgbox(: neither may show up anywhere.
PAYLOADS = ("alert(", "msgbox(")
SAFE_PAGE, SAFE_PDF = "https://example.org/paper", "https://example.org/paper.pdf"

PAPERS = [
    Paper(
        id="local:00000000000000d1",
        title="Poisoned links in a local record",
        abstract="A record whose links run script.",
        authors=["Eve Example"],
        abs_url="javascript:alert(1)",
        pdf_url="data:text/html,<script>alert(2)</script>",
    ),
    Paper(
        id="local:00000000000000d2",
        title="Poisoned links in another local record",
        abstract="Links in other schemes and cases.",
        authors=["Eve Example"],
        abs_url="vbscript:msgbox(3)",
        pdf_url=" JaVaScRiPt:alert(4)",
    ),
    Paper(
        id="2401.00077",
        title="Poisoned links in an arXiv record",
        abstract="An arXiv paper with a bad link: its arXiv links are shown instead.",
        authors=["Eve Example"],
        abs_url="javascript:alert(5)",
    ),
    Paper(
        id="local:00000000000000d3",
        title="Safe links in a local record",
        abstract="A record with ordinary web links.",
        authors=["Ada Example"],
        abs_url=SAFE_PAGE,
        pdf_url=SAFE_PDF,
    ),
]


def assert_no_payload(text: str, where: str) -> None:
    found = [p for p in PAYLOADS if p in text]
    assert not found, f"{where} carries {found}"


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://arxiv.org/abs/2401.00001", True),
        ("http://example.org/a?b=c#d", True),
        ("  https://example.org/  ", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("\tjavascript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("vbscript:msgbox(1)", False),
        ("//evil.example/x", False),
        ("https:evil", False),
        ('https://example.org/"><script>', False),
        ("ftp://example.org/file", False),
        ("", False),
        (None, False),
    ],
)
def test_only_http_links_pass(url: str | None, kept: bool) -> None:
    assert safe_url(url) == (url.strip() if kept and url else None)


def test_an_import_drops_links_that_are_not_http(tmp_path: Path) -> None:
    rows = [
        {"title": "Bad", "abstract": "Text.", "url": "javascript:alert(1)", "pdf_url": "data:,x"},
        {"title": "Good links", "abstract": "Text.", "url": SAFE_PAGE, "pdf_url": SAFE_PDF},
    ]
    path = tmp_path / "papers.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    bad, good = [r.paper for r in read_jsonl(path) if isinstance(r, Record)]  # none skipped
    assert (bad.title, bad.abs_url, bad.pdf_url) == ("Bad", None, None)
    assert (good.abs_url, good.pdf_url) == (SAFE_PAGE, SAFE_PDF)


@pytest.fixture
def poisoned(settings: Settings, smtp: tuple[Recorder, int]) -> Iterator[PaperFeed]:
    """A feed whose store holds the PAPERS as they are (e.g. imported before links were
    checked, or copied from another store), all submitted to the feed of DAY."""
    smtp_settings = SmtpSettings(host="127.0.0.1", port=smtp[1], security="none", sender=SENDER)
    with PaperFeed(
        replace(settings, base_url=BASE_URL, smtp=smtp_settings), embedder=HashingEmbedder()
    ) as feed:
        feed.ingest(
            iter(
                Record(paper, make_submission(paper.id, DAY, submitter="eve", imported_upvotes=n))
                for n, paper in enumerate(PAPERS, start=1)
            )
        )
        feed.index()
        yield feed


def test_dangerous_links_reach_no_output(poisoned: PaperFeed, smtp: tuple[Recorder, int]) -> None:
    day = DAY.isoformat()
    with TestClient(create_app(poisoned)) as client:
        atom = client.get(f"/feeds/daily.atom?date={day}")
        entries = feedparser.parse(atom.content).entries
        assert len(entries) == len(PAPERS)
        hrefs = [link.href for entry in entries for link in entry.links]
        assert all(href.startswith(("https://", "http://")) for href in hrefs), hrefs
        assert SAFE_PDF in hrefs and "https://arxiv.org/abs/2401.00077" in hrefs
        assert_no_payload(atom.text, "the Atom feed")

        listing = client.get(f"/api/daily_papers?date={day}").json()
        assert_no_payload(" ".join(strings(listing)), "/api/daily_papers")
        for paper in PAPERS:
            info = client.get(f"/api/papers/{paper.id}").json()
            assert_no_payload(" ".join(strings(info)), f"/api/papers/{paper.id}")
            for field in ("arxivUrl", "pdfUrl"):  # left out, or a link that passes
                assert safe_url(info.get(field)) == info.get(field)
            assert_no_payload(client.get(f"/papers/{paper.id}.md").text, f"{paper.id}.md")
            assert_no_payload(client.get(f"/papers/{paper.id}").text, f"the page of {paper.id}")
        assert_no_payload(client.get(f"/?date={day}").text, "the daily page")
        safe = client.get("/api/papers/local:00000000000000d3").json()
        assert (safe["arxivUrl"], safe["pdfUrl"]) == (SAFE_PAGE, SAFE_PDF)
        assert "arxivUrl" not in client.get("/api/papers/local:00000000000000d1").json()

    recorder, _ = smtp
    service = make_service(poisoned)
    service.subscriptions.add_confirmed("reader@example.org")
    assert service.send(DAY).sent == 1
    message = recorder.arrivals[0].message
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert SAFE_PAGE in html and SAFE_PAGE in text  # source links are in the e-mail...
    assert_no_payload(html, "the digest's HTML")  # ...but only http(s) ones
    assert_no_payload(text, "the digest's text")


def test_markdown_shows_imported_html_as_text(feed: PaperFeed) -> None:
    feed.ingest(
        iter(
            [
                Record(
                    Paper(
                        id="2401.00066",
                        title="<script>alert('title')</script> Bounds when $a<b$ & c>d",
                        abstract="We show <img src=x onerror=alert(1)> [more](http://x.example/).",
                        authors=["Mallory <b>Evil</b>"],
                    )
                )
            ]
        )
    )
    with TestClient(create_app(feed)) as client:
        response = client.get("/papers/2401.00066.md")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    text = response.text
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "# &lt;script&gt;alert('title')&lt;/script&gt; Bounds when $a&lt;b$ &amp; c&gt;d" in text
    assert r"\[more\](http://x.example/)" in text  # no link made of the abstract's text
    rendered = MarkdownIt("commonmark").render(text)  # raw HTML on: it would pass a tag through
    assert "<script" not in rendered and "<img" not in rendered and "<b>" not in rendered
    assert "&lt;script&gt;alert('title')&lt;/script&gt;" in rendered
    assert "Mallory &lt;b&gt;Evil&lt;/b&gt;" in rendered
