"""Digests through a real SMTP server: what arrives, its links and headers, retries, bounces."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.models import BOUNCED, OUTBOX_FAILED, OUTBOX_SENT, UNSUBSCRIBED, Paper, Preferences
from paperfeed.web.app import create_app
from tests.support.digest import BASE_URL, DAY, Recorder, day_papers, make_service, populate

LINK = re.compile(r'href="([^"]+)"')


def test_digest_arrives_multipart_with_valid_links_and_headers(
    smtp_feed: PaperFeed, smtp: tuple[Recorder, int], papers: list[Paper]
) -> None:
    recorder, _ = smtp
    service = make_service(smtp_feed)
    followed = papers[7].authors[0]
    subscriber = service.subscriptions.add_confirmed(
        "reader@example.org", Preferences.create(max_papers=6, authors=[followed])
    )
    report = service.send(DAY)
    assert (report.sent, report.failed, report.deferred) == (1, 0, 0)

    [arrival] = recorder.arrivals
    assert arrival.recipients == ["reader@example.org"]
    message = arrival.message
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert 'style="' in html and "<table" in html  # inline CSS, table layout

    paper_links = [u for u in LINK.findall(html) if "/papers/" in u]
    assert len(paper_links) == 6
    known = {p.id for p in papers}
    for url in paper_links:
        assert url.startswith(BASE_URL + "/papers/")
        assert url.removeprefix(BASE_URL + "/papers/") in known
        assert url in text  # the plain part links the same papers
    assert f"by an author you follow: {followed}" in text
    assert f"{BASE_URL}/papers/{papers[7].id}" == paper_links[0]  # followed author first

    list_unsubscribe = message["List-Unsubscribe"]
    [https_url] = re.findall(r"<([^>]+)>", list_unsubscribe)  # no mailto: nothing reads it
    assert https_url.startswith(BASE_URL + "/unsubscribe?token=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == service.renderer.message_id(subscriber.id, DAY)
    assert message["Date"] is not None
    assert https_url.replace("&amp;", "&") in [u.replace("&amp;", "&") for u in LINK.findall(html)]

    # The mail client's RFC 8058 one-click POST unsubscribes, without session or CSRF token.
    client = TestClient(create_app(smtp_feed))
    path = https_url.removeprefix(BASE_URL)
    response = client.post(
        path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert smtp_feed.store.subscriptions.get_subscriber(subscriber.id).status == UNSUBSCRIBED


def test_tampered_tokens_are_rejected(smtp_feed: PaperFeed, smtp: tuple[Recorder, int]) -> None:
    recorder, _ = smtp
    service = make_service(smtp_feed)
    subscriber = service.subscriptions.add_confirmed("reader@example.org")
    other = service.subscriptions.add_confirmed("other@example.org")
    service.send(DAY)
    by_rcpt = recorder.by_recipient()
    url = re.findall(r"<([^>]+)>", by_rcpt["reader@example.org"][0].message["List-Unsubscribe"])[0]
    token = parse_qs(urlsplit(url).query)["token"][0]
    client = TestClient(create_app(smtp_feed))

    payload, stamp, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    confirm_token = service.renderer.tokens.make("confirm", subscriber)  # right key, wrong purpose
    for bad in (f"{payload}.{stamp}.{flipped}", token[:-1], "", "garbage", confirm_token):
        response = client.post(f"/unsubscribe?token={bad}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400, bad
        assert client.get(f"/preferences?token={bad}").status_code == 400
    assert smtp_feed.store.subscriptions.get_subscriber(subscriber.id).status == "active"
    assert smtp_feed.store.subscriptions.get_subscriber(other.id).status == "active"

    assert (
        client.post(
            f"/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"}
        ).status_code
        == 200
    )
    assert smtp_feed.store.subscriptions.get_subscriber(subscriber.id).status == UNSUBSCRIBED
    assert smtp_feed.store.subscriptions.get_subscriber(other.id).status == "active"


def test_temporary_failure_is_retried_with_backoff(
    smtp_feed: PaperFeed, smtp: tuple[Recorder, int]
) -> None:
    recorder, _ = smtp
    waits: list[float] = []
    service = make_service(smtp_feed, sleep=waits.append)
    service.subscriptions.add_confirmed("busy@example.org")
    recorder.rcpt_answers["busy@example.org"] = deque(
        ["451 4.3.0 try again later", "451 4.3.0 still busy"]
    )

    report = service.send(DAY)

    assert (report.sent, report.deferred, report.failed) == (1, 0, 0)
    assert len(recorder.by_recipient()["busy@example.org"]) == 1
    delay = smtp_feed.settings.digest_retry_delay
    assert waits == [delay, delay * 2]
    [entry] = smtp_feed.store.subscriptions.outbox(DAY)
    assert entry.status == OUTBOX_SENT and entry.attempts == 1


def test_temporary_failures_past_the_retries_wait_for_the_next_run(
    smtp_feed: PaperFeed, smtp: tuple[Recorder, int]
) -> None:
    recorder, _ = smtp
    service = make_service(smtp_feed, sleep=lambda _s: None)
    service.subscriptions.add_confirmed("busy@example.org")
    recorder.rcpt_answers["busy@example.org"] = deque(["421 4.7.0 slow down"] * 3)

    first = service.send(DAY)
    assert (first.sent, first.deferred) == (0, 1)
    assert "421" in (smtp_feed.store.subscriptions.outbox(DAY)[0].last_error or "")
    second = service.send(DAY)
    assert (second.sent, second.deferred) == (1, 0)
    assert len(recorder.arrivals) == 1


def test_permanent_failure_marks_failed_and_stops_after_max_failures(
    smtp_feed: PaperFeed, smtp: tuple[Recorder, int], papers: list[Paper]
) -> None:
    recorder, _ = smtp
    service = make_service(smtp_feed, sleep=lambda _s: None)
    bad = service.subscriptions.add_confirmed(
        "nobody@example.org", Preferences.create(max_papers=2)
    )
    good = service.subscriptions.add_confirmed(
        "reader@example.org", Preferences.create(max_papers=2)
    )
    recorder.rcpt_answers["nobody@example.org"] = deque(["550 5.1.1 no such user"] * 10)
    max_failures = smtp_feed.settings.digest_max_failures
    days = [DAY.replace(day=DAY.day + i) for i in range(max_failures + 1)]
    more = day_papers(len(papers) + 5 * max_failures)[len(papers) :]
    for i, day in enumerate(days[1:]):  # a few more days with new papers
        populate(smtp_feed, more[5 * i : 5 * i + 5], day)

    reports = [service.send(day) for day in days]

    assert [r.failed for r in reports] == [1] * max_failures + [0]
    assert reports[max_failures - 1].bounced == 1
    assert smtp_feed.store.subscriptions.get_subscriber(bad.id).status == BOUNCED
    assert all(
        e.status == OUTBOX_FAILED
        for e in smtp_feed.store.subscriptions.outbox(days[0])
        if e.subscriber_id == bad.id
    )
    assert not any(
        e.subscriber_id == bad.id for e in smtp_feed.store.subscriptions.outbox(days[-1])
    )  # no more tries
    assert [r.sent for r in reports] == [1] * len(days)  # the good address is unaffected
    assert len(recorder.by_recipient()["reader@example.org"]) == len(days)
    assert "nobody@example.org" not in recorder.by_recipient()
    assert smtp_feed.store.subscriptions.get_subscriber(good.id).failures == 0
