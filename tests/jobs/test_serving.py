"""With the job queue, web workers only serve: no background threads; work goes to the queue."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.store.job_queue import Task
from paperfeed.web.app import create_app_from_env
from tests.support.paths import DATA
from tests.support.recorded_server import RecordedServer

pytestmark = pytest.mark.backends("postgres")

BACKGROUND_THREADS = {"digest-scheduler", "paperfeed-index", "sync-scheduler", "paperfeed-pending"}
ATOM = DATA / "arxiv_api_atom_arxivpy" / "xml"


def _background_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.is_alive()} & BACKGROUND_THREADS


def test_web_workers_on_the_job_queue_start_no_background_work(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if settings.database_url is None:
        pytest.skip("the job queue needs PostgreSQL")
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERFEED_DIGEST_HOUR", "7")
    before = _background_threads()
    app = create_app_from_env()
    try:
        assert _background_threads() == before
        assert not hasattr(app.state, "digest_scheduler")
        assert not hasattr(app.state, "submission_retrier")
    finally:
        app.state.feed.close()


def test_a_paper_a_submission_fetched_from_arxiv_is_embedded_by_a_job(settings: Settings) -> None:
    if settings.database_url is None:
        pytest.skip("the job queue needs PostgreSQL")
    with RecordedServer() as arxiv:
        arxiv.serve("/api/query", (ATOM / "id_1605.08386_s0_m100_199195aa31ad.xml").read_bytes())
        at_arxiv = replace(settings, arxiv_api_url=arxiv.url + "/api/query")
        with PaperFeed(at_arxiv) as feed:
            alice = feed.community.create_account("alice", "correct horse battery staple")
            queue = feed.job_queue
            assert queue is not None
            assert f"{Task.EMBED} todo" not in queue.counts()
            feed.community.submit("1605.08386", alice)
            assert queue.counts().get(f"{Task.EMBED} todo") == 1
            assert queue.embed_soon() is None  # one waiting embedding pass is enough


def test_the_queue_can_be_turned_off_to_work_inside_serve(settings: Settings) -> None:
    with PaperFeed(settings) as default, PaperFeed(replace(settings, job_queue=False)) as off:
        assert (default.job_queue is None) == (settings.database_url is None)
        assert off.job_queue is None
