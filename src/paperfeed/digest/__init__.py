"""E-mail digests: double opt-in subscriptions, per-subscriber composition, rendering and
exactly-once delivery through an outbox table (see digests.DigestService)."""
