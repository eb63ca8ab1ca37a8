"""The faces: `paperfeed sources / sync / status`, the admin pages, the feed's "Updated" line."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.web.app import create_app
from tests.support.arxiv_feeds import rss_items, rss_listing
from tests.support.fakes import ManualClock
from tests.support.recorded_server import Reply
from tests.support.web import PASSWORD, csrf_of, log_in
from tests.sync.conftest import Upstream


def cli(settings: Settings, upstream: Upstream, *args: str) -> tuple[int, str]:
    env = {"PAPERFEED_DATA_DIR": str(settings.data_dir), "PAPERFEED_ARXIV_DELAY": "0"}
    env["PAPERFEED_ARXIV_RSS_URL"] = f"{upstream.server.url}/rss/"
    env["PAPERFEED_ARXIV_OAI_URL"] = f"{upstream.server.url}/oai"
    env["PAPERFEED_HF_ENDPOINT"] = upstream.server.url
    if settings.database_url:
        env["PAPERFEED_DATABASE_URL"] = settings.database_url
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_sources_are_added_listed_and_removed_from_the_command_line(
    settings: Settings, upstream: Upstream
) -> None:
    assert cli(settings, upstream, "sources", "add", "arxiv", "CS.cl") == (
        0,
        "following 1: arxiv cs.CL\n",
    )
    assert cli(settings, upstream, "sources", "add", "arxiv-query", 'abs:"state space"')[0] == 0
    assert cli(settings, upstream, "sources", "add", "hf-daily")[0] == 0
    _, out = cli(settings, upstream, "sources", "list", "--json")
    listed = json.loads(out)
    assert [(s["kind"], s["value"]) for s in listed] == [
        ("arxiv", "cs.CL"),
        ("arxiv-query", 'abs:"state space"'),
        ("hf-daily", ""),
    ]
    assert cli(settings, upstream, "sources", "remove", "2") == (
        0,
        'no longer following 2: arxiv-query abs:"state space"\n',
    )
    assert len(json.loads(cli(settings, upstream, "sources", "list", "--json")[1])) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rss", "cs.CL"), "unknown source kind 'rss'"),
        (("arxiv", "cs.XY"), "'cs.XY' is not an arXiv category; cs has cs.AI"),
        (("arxiv", "biology"), "'biology' is not an arXiv category or archive"),
        (("arxiv-query", " "), "needs a query"),
        (("hf-daily", "today"), "hf-daily takes no value"),
        (("arxiv", "cs.cl"), "is followed already"),
    ],
)
def test_a_bad_source_gets_a_clear_error(
    settings: Settings, upstream: Upstream, args: tuple[str, ...], message: str
) -> None:
    cli(settings, upstream, "sources", "add", "arxiv", "cs.CL")
    code, out = cli(settings, upstream, "sources", "add", *args)
    assert code == 1
    assert message in out
    assert len(json.loads(cli(settings, upstream, "sources", "list", "--json")[1])) == 1


def test_sync_and_status_on_the_command_line(settings: Settings, upstream: Upstream) -> None:
    today = dt.datetime.now(dt.UTC).date()  # the command runs on the real clock
    upstream.listing("stat", rss_listing(today, rss_items()[0::2]))
    upstream.server.replace("/api/daily_papers", Reply(status=404))  # not retried
    cli(settings, upstream, "sources", "add", "arxiv", "stat")
    cli(settings, upstream, "sources", "add", "hf-daily")

    code, out = cli(settings, upstream, "sync", "--no-index", "--json")
    assert code == 1  # a source failed
    report = json.loads(out[out.index("{") :])
    assert [s["status"] for s in report["sources"]] == ["ok", "failed"]
    assert report["new"] == report["sources"][0]["new"] > 0

    code, out = cli(settings, upstream, "status", "--json")
    status = json.loads(out)
    arxiv, hf = status["sources"]
    assert arxiv["state"] == "ok" and arxiv["papers_added"] == report["new"]
    assert hf["state"] == "failing (1 in a row, backing off)" and "HTTP 404" in hf["last_error"]
    assert status["waiting_for_embeddings"] == report["new"]
    assert status["last_digest"] is None
    code, out = cli(settings, upstream, "status")
    assert "papers waiting for embeddings" in out and "HTTP 404" in out


def test_admins_manage_sources_and_read_the_status_in_the_browser(
    sync_feed: PaperFeed, upstream: Upstream, clock: ManualClock
) -> None:
    sync_feed.community.create_account("alice", PASSWORD)
    sync_feed.community.create_account("root", PASSWORD, is_admin=True)
    with TestClient(create_app(sync_feed)) as client:
        assert client.get("/admin/sources", follow_redirects=False).status_code == 303
        log_in(client, "alice")
        assert client.get("/admin/sources").status_code == 403
        assert client.get("/admin/status").status_code == 403
        csrf = csrf_of(client, "/")
        refused = client.post("/admin/sources", data={"kind": "hf-daily", "csrf_token": csrf})
        assert refused.status_code == 403 and sync_feed.sync_service.sources() == []

    with TestClient(create_app(sync_feed)) as client:
        log_in(client, "root")
        no_token = client.post("/admin/sources", data={"kind": "arxiv", "value": "stat"})
        assert no_token.status_code == 403
        csrf = csrf_of(client, "/admin/sources")
        added = client.post(
            "/admin/sources",
            data={"kind": "arxiv", "value": "stat", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert added.status_code == 303
        bad = client.post(
            "/admin/sources", data={"kind": "arxiv", "value": "cs.XY", "csrf_token": csrf}
        )
        assert bad.status_code == 400 and "is not an arXiv category" in bad.text
        assert "<td>stat</td>" in client.get("/admin/sources").text

        assert "Updated" not in client.get("/").text  # never synced yet
        upstream.listing("stat", rss_listing(clock.now.date(), rss_items()[0::2]))
        sync_feed.sync()
        clock.advance(hours=2)
        feed_page = client.get("/").text
        assert (
            f'Updated <time datetime="{(clock.now.replace(hour=9)).isoformat()}">2 hours ago</time>'
            in feed_page
        )
        status = client.get("/admin/status").text
        assert "stat" in status and "ok" in status and "Waiting for embeddings" in status

        (source,) = sync_feed.sync_service.sources()
        removed = client.post(
            f"/admin/sources/{source.id}/remove",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert removed.status_code == 303
        assert sync_feed.sync_service.sources() == []
        assert re.search(r"No sources yet", client.get("/admin/sources").text)
