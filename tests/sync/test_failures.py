"""A source that answers 503, too slowly or with garbage: the run is recorded as failed with its
reason, the site keeps serving what it has, and the next run succeeds."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.models import RUN_FAILED, RUN_OK
from paperfeed.web.app import create_app
from tests.support.arxiv_feeds import item_ids, rss_items, rss_listing
from tests.support.fakes import ManualClock
from tests.support.recorded_server import Reply
from tests.sync.conftest import CLIENT_TIMEOUT, JSON, Upstream

BROKEN = {
    "503": (Reply(status=503, content_type="text/plain"), "HTTP 503"),
    "timeout": (Reply(delay=CLIENT_TIMEOUT * 3), "ReadTimeout"),
    "garbage": (
        Reply(body="<html>maintenance</html>", content_type="text/html"),
        "not an arXiv RSS",
    ),
}


@pytest.mark.parametrize("failure", sorted(BROKEN))
def test_a_failing_listing_is_recorded_and_the_next_run_succeeds(
    sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock, failure: str
) -> None:
    items = rss_items()
    today = clock.now.date()
    upstream.listing("stat", rss_listing(today, items[0::2]))
    source = sync_feed.sync_service.add_source("arxiv", "stat")
    sync_feed.sync()
    kept = sync_feed.count_papers()

    clock.advance(days=1)
    reply, reason = BROKEN[failure]
    upstream.listing("stat", reply)
    report = sync_feed.sync()

    (result,) = report.results
    assert result.error is not None and reason in result.error
    run = sync_feed.store.sources.runs(source.id, limit=1)[0]
    assert (run.status, run.error) == (RUN_FAILED, result.error)
    state = sync_feed.sync_status().sources[0]
    assert state.state == "failing (1 in a row, backing off)"
    assert state.source.cursor == today.isoformat()  # the position did not move
    assert sync_feed.count_papers() == kept
    with TestClient(create_app(sync_feed)) as client:
        assert client.get("/").status_code == 200
        assert client.get(f"/?date={today}").text.count('class="card') >= 1

    upstream.listing("stat", rss_listing(clock.now.date(), items[1::2]))
    (retried,) = sync_feed.sync().results
    assert retried.error is None
    assert retried.report.new == len(item_ids(items[1::2]))
    source_now = sync_feed.store.sources.get(source.id)
    assert source_now.failures == 0
    assert sync_feed.store.sources.runs(source.id, limit=1)[0].status == RUN_OK


def test_hugging_face_garbage_fails_that_source_only(
    sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock
) -> None:
    upstream.listing("stat", rss_listing(clock.now.date(), rss_items()[0::3]))
    upstream.server.replace(
        "/api/daily_papers", Reply(body="Bad gateway, try later", content_type=JSON)
    )
    sync_feed.sync_service.add_source("hf-daily")
    sync_feed.sync_service.add_source("arxiv", "stat")

    hf, arxiv = sync_feed.sync().results

    assert hf.error is not None and "not a daily papers answer" in hf.error
    assert arxiv.error is None and arxiv.report.new > 0
