"""What goes into a digest: reasons, filters, trending, and no paper twice to the same person."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.digest.compose import category_allows, is_due, normalize_name
from paperfeed.digest.digests import DigestService
from paperfeed.models import OUTBOX_SENT, Preferences
from tests.support.digest import DAY, day_papers, make_service, populate
from tests.support.fakes import HashingEmbedder, RecordingMailer


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


def _service(feed: PaperFeed, mailer: RecordingMailer) -> DigestService:
    return make_service(feed, mailer=mailer)


def _links(message: object) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]


def test_personal_picks_carry_their_reason(feed: PaperFeed, mailer: RecordingMailer) -> None:
    papers = day_papers(40)
    populate(feed, papers)
    target = papers[25]
    user = feed.store.community.create_user("reader", None, "liker@example.org")
    liked = papers[30]
    feed.store.community.add_vote(liked.id, user.id)
    service = _service(feed, mailer)
    search = " ".join(target.title.split()[:6])
    searcher = feed.store.subscriptions.add_subscriber(
        "searcher@example.org",
        Preferences.create(max_papers=10, searches=[search]),
        status="active",
    )
    liker = feed.store.subscriptions.add_subscriber(
        "liker@example.org", Preferences.create(max_papers=10), user_id=user.id, status="active"
    )

    by_search, by_votes = service.compose(DAY, [searcher, liker])

    assert by_search.picks[0].paper.id == target.id
    assert by_search.picks[0].reason == f"matches your search '{search}'"
    assert by_votes.picks and all(
        p.reason == f"like '{liked.title}' you upvoted" for p in by_votes.picks
    )
    assert liked.id not in by_votes.paper_ids  # upvoted already: not suggested again
    for digest in (by_search, by_votes):
        assert len(digest.trending) >= 3 and len(set(digest.paper_ids)) == 10
        assert all(p.kind == "trending" for p in digest.trending)
    top_voted = max(papers, key=lambda p: feed.store.papers.get_paper(p.id).upvotes)
    assert top_voted.id in by_search.paper_ids

    report = service.send(DAY)  # what was composed is what goes out, once to each
    assert (report.due, report.sent, report.skipped, report.failed) == (2, 2, 0, 0)
    assert sorted(mailer.recipients()) == ["liker@example.org", "searcher@example.org"]
    assert (mailer.opened, mailer.closed) == (1, 1)
    to_searcher = _links(mailer.sent[mailer.recipients().index("searcher@example.org")])
    assert f"/papers/{target.id}" in to_searcher
    assert f"matches your search '{search}'" in to_searcher


def test_category_filter_and_no_paper_twice_across_digests(
    feed: PaperFeed, mailer: RecordingMailer
) -> None:
    papers = day_papers(60)
    populate(feed, papers[:30], DAY)
    populate(feed, papers[30:], DAY + dt.timedelta(days=1))
    service = _service(feed, mailer)
    only_cl = service.subscriptions.add_confirmed(
        "cl@example.org", Preferences.create(max_papers=8, categories="cs.CL")
    )
    everything = service.subscriptions.add_confirmed(
        "all@example.org", Preferences.create(max_papers=8)
    )

    [cl_digest] = service.compose(DAY, [only_cl])
    assert cl_digest.paper_ids
    for pick in cl_digest.trending:
        assert "cs.CL" in pick.paper.categories

    sent: dict[int, list[str]] = {only_cl.id: [], everything.id: []}
    reports = [
        service.send(day) for day in (DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=1))
    ]
    assert [(r.sent, r.failed, r.already_done) for r in reports] == [
        (2, 0, 0),
        (2, 0, 0),
        (0, 0, 2),
    ]
    assert sorted(mailer.recipients()) == ["all@example.org"] * 2 + ["cl@example.org"] * 2
    assert len({m["Message-ID"] for m in mailer.sent}) == 4  # one message per address and date
    for entry in feed.store.subscriptions.outbox(DAY) + feed.store.subscriptions.outbox(
        DAY + dt.timedelta(days=1)
    ):
        assert entry.status == OUTBOX_SENT
    for subscriber in (only_cl, everything):
        ids = [
            pid
            for _, pid in feed.store.subscriptions.sent_papers(
                [subscriber.id], [p.id for p in papers]
            )
        ]
        sent[subscriber.id] = ids
        assert len(ids) == len(set(ids))
    # Papers of day one still trending on day two (weekly window) are not sent again.
    [again] = service.compose(
        DAY + dt.timedelta(days=1), [feed.store.subscriptions.get_subscriber(everything.id)]
    )
    assert not set(again.paper_ids) & set(sent[everything.id])


def test_followed_author_matching_and_helpers() -> None:
    assert normalize_name("José  Müller-Brown") == normalize_name("jose muller brown")
    assert category_allows(("cs",), ["cs.CL"]) and category_allows(("cs.CL",), ["cs.CL", "cs.LG"])
    assert not category_allows(("cs.CV",), ["cs.CL"]) and category_allows(("cs.CV",), [])
    weekly = Preferences.create(frequency="weekly")
    sunday = dt.date(2024, 6, 2)
    assert is_due(weekly, sunday) and not is_due(weekly, sunday - dt.timedelta(days=1))
    assert is_due(Preferences(), sunday - dt.timedelta(days=1))


def test_empty_day_sends_nothing(feed: PaperFeed, mailer: RecordingMailer) -> None:
    service = _service(feed, mailer)
    service.subscriptions.add_confirmed("a@example.org")
    report = service.send(DAY)
    assert (report.due, report.sent, report.skipped) == (1, 0, 1)
    assert mailer.sent == [] and mailer.opened == 0  # no mailer opened for nothing to send


def test_the_feed_sends_with_the_mailer_and_clock_it_was_given(settings: Settings) -> None:
    mailer = RecordingMailer()
    now = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(8), dt.UTC)
    with PaperFeed(settings, embedder=HashingEmbedder(), mailer=mailer, clock=lambda: now) as feed:
        populate(feed, day_papers(20))
        for address in ("a@example.org", "b@example.org"):
            feed.digest.subscriptions.add_confirmed(address, Preferences.create(max_papers=4))
        [report] = feed.digest.send_default()  # yesterday by the feed's clock
    assert (report.date, report.sent, report.where) == (DAY, 2, "recording")
    assert sorted(mailer.recipients()) == ["a@example.org", "b@example.org"]
    assert all(len(_paper_links(m)) == 4 for m in mailer.sent)


def _paper_links(message: object) -> set[str]:
    return {line for line in _links(message).split() if "/papers/" in line}
