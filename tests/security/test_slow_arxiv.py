"""A slow or busy arXiv never holds a request: the submit lookup has a short total deadline,
after which the submission waits for arXiv (HTTP 202) and is added by the background retrier;
at most a few lookups wait at once, so pages and static files keep answering."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.core.community import LOOKUP_SLOTS
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.web.app import create_app
from paperfeed.web.limits import Limit, RateLimits
from tests.support.fakes import HashingEmbedder
from tests.support.net import free_port
from tests.support.slow_arxiv import PAPER_ID, SlowArxiv
from tests.support.web import PASSWORD, log_in

DEADLINE = 0.5  # the lookup deadline of these tests (the default is 5 s)
LIMITS = RateLimits(submissions=Limit(100, 3600))


@pytest.fixture
def arxiv() -> Iterator[SlowArxiv]:
    with SlowArxiv() as stub:
        yield stub


def slow_feed(settings: Settings, arxiv: SlowArxiv, deadline: float = DEADLINE) -> PaperFeed:
    """A feed with alice's account that looks submissions up at the stub within `deadline`."""
    feed = PaperFeed(
        settings.with_overrides(
            arxiv_api_url=arxiv.url, arxiv_lookup_deadline=deadline, submit_retry_delay=0.05
        ),
        embedder=HashingEmbedder(),
    )
    feed.community.create_account("alice", PASSWORD)
    return feed


def submit(client: httpx.Client, token: str, arxiv_id: str) -> httpx.Response:
    return client.post(
        "/submit", data={"arxiv_id": arxiv_id, "csrf_token": token}, follow_redirects=False
    )


def wait_for(condition: Callable[[], object], seconds: float = 15.0) -> None:
    give_up = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up, "gave up waiting"
        time.sleep(0.02)


def test_a_hanging_arxiv_answers_202_and_the_paper_comes_later(
    settings: Settings, arxiv: SlowArxiv
) -> None:
    with (
        slow_feed(settings, arxiv) as feed,
        TestClient(create_app(feed, rate_limits=LIMITS)) as client,
    ):
        token = log_in(client, "alice")
        started = time.monotonic()
        response = submit(client, token, f"arXiv:{PAPER_ID}")
        took = time.monotonic() - started
        assert response.status_code == 202, response.text
        assert f"we'll add {PAPER_ID} shortly" in response.text
        assert took < 10  # the stub holds the request 30 s
        waiting = feed.store.community.pending.get(PAPER_ID)
        assert waiting is not None and feed.store.community.get_submission(PAPER_ID) is None
        again = submit(client, token, PAPER_ID)
        assert again.status_code == 409 and "already submitted" in again.text

        arxiv.mode = "ok"  # arXiv is back
        retrier = feed.community.start_submission_retrier(every=0.05)
        try:
            wait_for(lambda: feed.store.community.get_submission(PAPER_ID))
        finally:
            retrier.stop()
        submission = feed.store.community.get_submission(PAPER_ID)
        assert submission.submitter == "alice" and submission.day == waiting.day
        assert submission.submitted_at == waiting.submitted_at
        assert feed.store.community.pending.get(PAPER_ID) is None
        assert "Submitted to the feed on" in client.get(f"/papers/{PAPER_ID}").text


def test_a_long_retry_after_is_not_waited_for_but_kept(
    settings: Settings, arxiv: SlowArxiv
) -> None:
    arxiv.mode = "busy"  # 503, Retry-After: 300
    with slow_feed(settings, arxiv, deadline=5.0) as feed, TestClient(create_app(feed)) as client:
        started = time.monotonic()
        response = submit(client, log_in(client, "alice"), PAPER_ID)
        assert response.status_code == 202 and time.monotonic() - started < 10
        waiting = feed.store.community.pending.get(PAPER_ID)
        assert waiting.next_attempt_at - waiting.submitted_at >= dt.timedelta(seconds=300)
        assert feed.community.retry_pending_submissions() == 0  # not due before arXiv's 300 s
        assert arxiv.requests == 1


def test_a_trickling_answer_is_cut_at_the_deadline(arxiv: SlowArxiv) -> None:
    arxiv.mode = "trickle"  # 300 bytes, one every 0.1 s: each read is quick, the whole is not
    with PoliteClient(delay=0, max_retries=1, backoff=0.1) as client, client.deadline(DEADLINE):
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            client.get(arxiv.url, {"id_list": PAPER_ID})
        assert time.monotonic() - started < 5
    assert "ReadTimeout" in caught.value.reason


@contextmanager
def serving(feed: PaperFeed) -> Iterator[str]:
    """The web app over `feed` under a real uvicorn server in a thread; yields its address."""
    port = free_port()
    config = uvicorn.Config(
        create_app(feed, rate_limits=LIMITS), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def test_pages_answer_while_submits_hang_on_arxiv(settings: Settings, arxiv: SlowArxiv) -> None:
    with slow_feed(settings, arxiv, deadline=10.0) as feed, serving(feed) as url:
        with httpx.Client(base_url=url, timeout=60) as login:
            token = log_in(login, "alice")
            cookies = login.cookies
        answers: dict[str, int] = {}

        def one_submit(n: int) -> None:
            with httpx.Client(base_url=url, cookies=cookies, timeout=60) as client:
                answers[f"2501.{n:05d}"] = submit(client, token, f"2501.{n:05d}").status_code

        threads = [threading.Thread(target=one_submit, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        wait_for(lambda: arxiv.in_flight >= 1)
        with httpx.Client(base_url=url, timeout=60) as reader:
            css, home = reader.get("/static/style.css"), reader.get("/")
        held = arxiv.in_flight
        arxiv.release.set()
        for thread in threads:
            thread.join(60)
        waiting = [feed.store.community.pending.get(paper_id) for paper_id in answers]
    assert css.status_code == 200 and "body" in css.text
    assert home.status_code == 200
    assert held >= 1  # the reads were answered while lookups hung
    assert sorted(answers.values()) == [202] * 20
    assert arxiv.most_in_flight <= LOOKUP_SLOTS  # the others waited for arXiv at once
    assert all(w is not None and w.attempts == 1 for w in waiting)
