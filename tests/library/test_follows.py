"""Follows on the site are the digest's follows (one set of preferences): following an author
from their page changes the digest's picks; the digest's preferences page edits the same
follows; migration 12 moved the follows subscriptions kept. Author pages merge initials when
unambiguous."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.models import ACTIVE, Follow, Preferences
from paperfeed.store import open_store
from paperfeed.store.reader_tables import READER_TABLES, follows
from paperfeed.store.schema import subscribers
from tests.library.conftest import new_reader

DAY = dt.date(2025, 3, 19)


def _author_of_one_paper(site: PaperFeed) -> tuple[str, str]:
    """(author, paper id): an author with exactly one paper in the store, published on DAY."""
    everyone = Counter(
        name
        for p in site.store.papers.papers_published_between(
            DAY - dt.timedelta(days=9), DAY + dt.timedelta(days=9), limit=5000
        )
        for name in p.authors
    )
    for paper in site.store.papers.papers_published_between(DAY, DAY, limit=1000):
        for name in paper.authors:
            if everyone[name] == 1 and len(name.split()) == 2:
                return name, paper.id
    raise AssertionError("no author with a single paper")


def _picks(site: PaperFeed, subscriber_id: int) -> dict[str, str]:
    subscriber = site.store.subscriptions.get_subscriber(subscriber_id)
    (digest,) = site.digest.compose(DAY, [subscriber])
    return {pick.paper.id: pick.reason for pick in digest.picks}


def test_following_an_author_on_the_site_changes_the_digest(
    site: PaperFeed, client: TestClient
) -> None:
    user, csrf = new_reader(site, client)
    subscriber = site.store.subscriptions.add_subscriber(
        user.email or "", Preferences(), user_id=user.id, status=ACTIVE
    )
    author, paper_id = _author_of_one_paper(site)
    assert paper_id not in _picks(site, subscriber.id)

    page = client.get(f"/authors/{author}")
    assert page.status_code == 200 and f"/papers/{paper_id}" in page.text
    followed = client.post(
        "/follow",
        data={"kind": "author", "value": author, "next": f"/authors/{author}", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert followed.status_code == 303
    assert "Following ✓" in client.get(f"/authors/{author}").text
    assert _picks(site, subscriber.id)[paper_id] == f"by an author you follow: {author}"
    # the subscription's own preferences say so too
    assert site.store.subscriptions.get_subscriber(subscriber.id).prefs.authors == (author,)

    client.post(
        "/follow",
        data={"kind": "author", "value": author, "action": "unfollow", "csrf_token": csrf},
    )
    assert paper_id not in _picks(site, subscriber.id)


def test_the_digest_preferences_edit_the_readers_follows(
    site: PaperFeed, client: TestClient
) -> None:
    user, _ = new_reader(site, client)
    subscriber = site.store.subscriptions.add_subscriber(
        user.email or "", Preferences(), user_id=user.id, status=ACTIVE
    )
    prefs = Preferences.create(categories="cs.CV", searches=["gaussian splatting"])
    site.store.subscriptions.update_subscriber(subscriber.id, prefs=prefs)
    page = client.get("/following")
    assert "cs.CV" in page.text and "gaussian splatting" in page.text
    assert site.readers.follows.of(user) == [
        Follow("category", "cs.CV"),
        Follow("search", "gaussian splatting"),
    ]


def test_author_page_merges_initials_only_when_unambiguous(
    site: PaperFeed, client: TestClient
) -> None:
    quinlan = client.get("/authors/Ada Quinlan")
    assert "2503.90001" in quinlan.text and "2503.90002" in quinlan.text  # "A. Quinlan" too
    assert "also written A. Quinlan" in quinlan.text
    initials = client.get("/authors/A.%20Quinlan")
    assert "<h1>Ada Quinlan</h1>" in initials.text and "2503.90001" in initials.text

    # "J. Zedwick" may be Jo or Jan: kept apart, and both named
    zedwick = client.get("/authors/J. Zedwick")
    assert "2503.90005" in zedwick.text
    assert "2503.90003" not in zedwick.text and "2503.90004" not in zedwick.text
    assert "Jan Zedwick or Jo Zedwick" in zedwick.text
    jo = client.get("/authors/Jo Zedwick")
    assert "2503.90003" in jo.text and "2503.90005" not in jo.text
    assert client.get("/authors/Nobody Atall").status_code == 404


def test_migration_12_moves_subscription_follows_into_one_set(site: PaperFeed) -> None:
    url = str(site.store.engine.url.render_as_string(hide_password=False))
    url = url.replace("postgresql+psycopg://", "postgresql://")
    user = site.community.create_account("migrated", "correct horse battery")
    with site.store.engine.begin() as conn:  # as the tables were before migration 12
        old = {"frequency": "weekly", "authors": ["Ada Quinlan"], "categories": ["cs.CV"]}
        for email, owner in (("linked@example.org", user.id), ("alone@example.org", None)):
            conn.execute(
                subscribers.insert().values(
                    email=email,
                    status=ACTIVE,
                    prefs=old,
                    user_id=owner,
                    failures=0,
                    created_at=dt.datetime(2025, 1, 1),
                    updated_at=dt.datetime(2025, 1, 1),
                )
            )
        saved = [dict(r) for r in conn.execute(sa.select(follows)).mappings()]
        for table in reversed(READER_TABLES):
            conn.execute(sa.text(f"DROP TABLE {table.name}"))
        conn.execute(sa.text("DELETE FROM schema_migrations WHERE version = 12"))
    migrated = open_store(url)
    try:
        linked = migrated.subscriptions.find_subscriber("linked@example.org")
        alone = migrated.subscriptions.find_subscriber("alone@example.org")
        assert linked is not None and alone is not None
        for subscriber in (linked, alone):
            assert subscriber.prefs.frequency == "weekly"
            assert subscriber.prefs.authors == ("Ada Quinlan",)
            assert subscriber.prefs.categories == ("cs.CV",)
        assert migrated.follows.of_user(user.id) == [
            Follow("category", "cs.CV"),
            Follow("author", "Ada Quinlan"),
        ]
        with migrated.engine.connect() as conn:
            kept = conn.execute(sa.select(subscribers.c.prefs).where(subscribers.c.id == alone.id))
            assert "authors" not in kept.scalar_one()  # one place holds follows
    finally:
        with migrated.engine.begin() as conn:  # leave the other rows as they were
            conn.execute(follows.delete())
            if saved:
                conn.execute(follows.insert(), saved)
            conn.execute(
                subscribers.delete().where(
                    subscribers.c.email.in_(["linked@example.org", "alone@example.org"])
                )
            )
        migrated.close()
