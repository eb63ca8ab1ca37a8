"""An arXiv search followed as a source: the API is asked for the papers submitted since the
last sync (a few days of overlap, as announcements lag submissions); first versions go on the
feed on the day they were submitted."""

from __future__ import annotations

import datetime as dt
import re

from paperfeed.core import PaperFeed
from paperfeed.listings import day_period
from tests.support.fakes import ManualClock
from tests.support.paths import DATA
from tests.support.recorded_server import Reply
from tests.sync.conftest import Upstream

RECORDED = DATA / "arxiv_api_atom_arxivpy" / "xml" / "q_testing_s0_m10_bc5a6c384fe9.xml"


def recorded_page(submitted: dt.date) -> tuple[str, dict[str, int]]:
    """The recorded answer, every paper submitted (v1) on `submitted`, and its version by id."""
    text = RECORDED.read_text()
    versions = {
        m[1]: int(m[2]) for m in re.finditer(r"<id>http://arxiv.org/abs/(.+?)v(\d+)</id>", text)
    }
    text = re.sub(r"<published>[^<]+", f"<published>{submitted}T10:00:00Z", text)
    text = re.sub(
        r"<opensearch:totalResults([^>]*)>\d+",
        rf"<opensearch:totalResults\g<1>>{len(versions)}",
        text,
    )
    return text, versions


def test_a_followed_search_brings_the_papers_submitted_since_the_last_sync(
    sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock
) -> None:
    today = clock.now.date()
    submitted = today - dt.timedelta(days=2)
    page, versions = recorded_page(submitted)
    upstream.server.serve("/api/query", Reply(body=page, content_type="application/atom+xml"))
    sync_feed.sync_service.add_source("arxiv-query", "all:testing")

    (result,) = sync_feed.sync().results

    assert result.error is None
    assert result.report.new == len(versions)
    on_feed = {i.paper.id for i in sync_feed.listing(day_period(submitted), limit=100).items}
    assert on_feed == {pid for pid, version in versions.items() if version == 1}
    (asked,) = upstream.requested("/api/query")
    window = f"{today - dt.timedelta(days=6):%Y%m%d}0000 TO {today:%Y%m%d}2359"
    assert asked["search_query"] == f"(all:testing) AND submittedDate:[{window}]"
    assert asked["sortBy"] == "submittedDate"

    clock.advance(days=1)
    (again,) = sync_feed.sync().results
    assert again.report.new == 0
    window = (
        f"{today - dt.timedelta(days=3):%Y%m%d}0000 TO {today + dt.timedelta(days=1):%Y%m%d}2359"
    )
    assert upstream.requested("/api/query")[-1]["search_query"].endswith(f"[{window}]")
