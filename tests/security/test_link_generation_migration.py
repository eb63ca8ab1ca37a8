"""Migration 8 upgrades a database made before link generations in place: subscribers get
generation 0, so the links already e-mailed to them (signed without a generation) keep working
until they ask for new ones."""

from __future__ import annotations

import hashlib

from itsdangerous import URLSafeTimedSerializer

from paperfeed.core import PaperFeed


def test_an_older_database_gets_link_generations_and_keeps_its_links(feed: PaperFeed) -> None:
    subscriptions = feed.digest.subscriptions
    subscriber = subscriptions.add_confirmed("reader@example.org")
    # A manage link as e-mailed before: [subscriber id, address fingerprint], signed.
    fingerprint = hashlib.sha256(subscriber.email.encode()).hexdigest()[:16]
    serializer = URLSafeTimedSerializer(
        feed.settings.resolved_secret_key(), salt="paperfeed.digest.manage"
    )
    old_link = serializer.dumps([subscriber.id, fingerprint])
    with feed.store.engine.begin() as conn:  # back to the schema before migration 8
        conn.exec_driver_sql("DROP TABLE requested_mails")
        conn.exec_driver_sql("ALTER TABLE subscribers DROP COLUMN token_generation")
        conn.exec_driver_sql("DELETE FROM schema_migrations WHERE version = 8")

    feed.store.migrate()
    assert subscriptions.for_token(old_link).id == subscriber.id
    assert subscriptions.new_link(old_link).token_generation == 1
    assert feed.store.subscriptions.get_subscriber(subscriber.id).token_generation == 1
    assert len(list(feed.settings.outbox_dir.glob("*.eml"))) == 1  # the new link
