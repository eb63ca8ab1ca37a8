"""arXiv RSS listings: the recorded stat feed of 2024-03-26, from a file and over HTTP."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from paperfeed.ingest.base import Record
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.rss import read_rss
from paperfeed.models import SkippedRecord
from tests.support.paths import DATA
from tests.support.recorded_server import RecordedServer, Reply

FEED = DATA / "arxiv_rss_feed_sample" / "rss_arxiv_stat_2024-03-26.xml"


def test_every_item_of_the_recorded_feed_becomes_a_paper() -> None:
    records = [r for r in read_rss(FEED) if isinstance(r, Record)]
    assert len(records) == FEED.read_text().count("<item>")
    first = records[0].paper
    assert (first.id, first.version) == ("2403.15527", 1)
    assert first.title == "Conformal online model aggregation"
    assert first.abstract.startswith("Conformal prediction equips machine learning models")
    assert first.authors == ["Matteo Gasparin", "Aaditya Ramdas"]
    assert first.categories == ["stat.ML", "cs.LG"]
    assert first.published == dt.datetime(2024, 3, 26, 4, tzinfo=dt.UTC)


def test_replacements_keep_their_version_and_no_publication_date() -> None:
    papers = [r.paper for r in read_rss(FEED) if isinstance(r, Record)]
    versions = Counter(p.version for p in papers)
    assert versions[1] > 0 and sum(n for v, n in versions.items() if v and v > 1) > 0
    assert all(p.published is None for p in papers if p.version and p.version > 1)


def test_a_broken_item_is_skipped_and_the_rest_read(tmp_path) -> None:
    text = FEED.read_text().replace("arXiv:2403.15527v1 Announce Type: new", "garbled", 1)
    broken = tmp_path / "broken.xml"
    broken.write_text(text)
    items = list(read_rss(broken))
    skipped = [i for i in items if isinstance(i, SkippedRecord)]
    assert len(skipped) == 1 and "item 1" in skipped[0].location
    assert len(items) == text.count("<item>")


def test_a_category_is_fetched_over_http_and_ingested(feed) -> None:
    with RecordedServer() as server:
        server.serve("/rss/stat", Reply(FEED.read_bytes(), content_type="application/rss+xml"))
        source = read_rss(f"{server.url}/rss/stat", client=PoliteClient(delay=0))
        report = feed.ingest(source)
    assert report.new == FEED.read_text().count("<item>")
    assert feed.store.papers.get_paper("2403.15527").authors == [
        "Matteo Gasparin",
        "Aaditya Ramdas",
    ]
