"""Tables shared by every SQL backend (SQLAlchemy Core). Backend-only objects (FTS, vector
indexes) are created by each backend's migrations."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

papers = sa.Table(
    "papers",
    metadata,
    sa.Column("key", sa.Integer, primary_key=True, autoincrement=True),  # ANN / FTS row key
    sa.Column("id", sa.String(64), nullable=False, unique=True),  # arXiv id or local:<hash>
    sa.Column("version", sa.Integer),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("abstract", sa.Text, nullable=False),
    sa.Column("authors", sa.Text, nullable=False),  # names joined by "\n", in order
    sa.Column("n_authors", sa.Integer, nullable=False),
    sa.Column("primary_category", sa.String(32)),
    sa.Column("categories", sa.Text, nullable=False),  # space separated
    sa.Column("published", sa.DateTime),  # naive UTC
    sa.Column("updated", sa.DateTime),
    sa.Column("doi", sa.Text),
    sa.Column("journal_ref", sa.Text),
    sa.Column("comments", sa.Text),
    sa.Column("license", sa.Text),
    sa.Column("abs_url", sa.Text),
    sa.Column("pdf_url", sa.Text),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("field_sources", sa.JSON, nullable=False),
    sa.Column("upvotes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("modified_at", sa.DateTime, nullable=False),
    # migration 11: code links, key phrases (NULL: not computed yet), Hugging Face's other fields
    sa.Column("code_url", sa.Text),
    sa.Column("project_url", sa.Text),
    sa.Column("keywords", sa.JSON(none_as_null=True)),
    sa.Column("hf", sa.JSON(none_as_null=True)),
    sa.Index("ix_papers_published", "published"),
    sa.Index("ix_papers_primary_category", "primary_category"),
)
# exact-title lookups ("go straight to the paper") without a scan
title_lookup = sa.Index("ix_papers_title_lower", sa.func.lower(papers.c.title))
# library entries matched by DOI, case-insensitively, without a scan (migration 14)
doi_lookup = sa.Index("ix_papers_doi_lower", sa.func.lower(papers.c.doi))

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("email", sa.String(320), unique=True),
    sa.Column("password_hash", sa.Text),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
# One account per name and per e-mail address whatever their case (`ALICE` is `alice`):
# lookups compare lower(...) and use these (migration 7).
username_lower = sa.Index("ux_users_username_lower", sa.func.lower(users.c.username), unique=True)
email_lower = sa.Index("ux_users_email_lower", sa.func.lower(users.c.email), unique=True)

# Signed-in browsers (migration 7): the cookie holds a random id, the table only its SHA-256.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Index("ix_sessions_user", "user_id"),
)

# Failed log-ins per (lower-cased) user name, known or not, for the per-account back-off.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure", sa.DateTime, nullable=False),
    sa.Column("locked_until", sa.DateTime),
    sa.Index("ix_login_failures_last_failure", "last_failure"),
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("submitted_at", sa.DateTime, nullable=False),
    sa.Column("submitter", sa.String(128)),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("imported_upvotes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    # migration 11: when Hugging Face listed it (ties in upvotes), its other item fields
    sa.Column("listed_at", sa.DateTime),
    sa.Column("hf", sa.JSON(none_as_null=True)),
    sa.Index("ix_submissions_day", "day"),
)

# newest submissions first (all-days listings, trending)
submission_times = sa.Index("ix_submissions_submitted_at", submissions.c.submitted_at)


def create_lookup_indexes(conn: sa.Connection) -> None:
    """Indexes added after the first schema: created where missing."""
    for index in (title_lookup, submission_times):
        conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))


def create_doi_index(conn: sa.Connection) -> None:
    conn.execute(sa.schema.CreateIndex(doi_lookup, if_not_exists=True))


votes = sa.Table(
    "votes",
    metadata,
    sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index("ix_votes_user", "user_id"),
)

embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column("paper_key", sa.Integer, sa.ForeignKey("papers.key"), primary_key=True),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("text_hash", sa.String(32), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, L2-normalised
    sa.Column("seq", sa.Integer, nullable=False),  # increases on every write: index sync marker
    sa.Index("ix_embeddings_seq", "seq"),
)

ingest_state = sa.Table(
    "ingest_state",
    metadata,
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

CORE_TABLES = (papers, users, submissions, votes, embeddings, ingest_state)

# Submissions of papers arXiv could not give in time: retried in the background (no foreign key
# to papers: the paper is not there yet).
pending_submissions = sa.Table(
    "pending_submissions",
    metadata,
    sa.Column("paper_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("submitted_at", sa.DateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_pending_submissions_next_attempt", "next_attempt_at"),
)

# -- e-mail digests (paperfeed.digest) ------------------------------------------------------

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),  # lower-cased
    sa.Column("status", sa.String(16), nullable=False),  # pending|active|unsubscribed|bounced
    sa.Column("prefs", sa.JSON, nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("confirmed_at", sa.DateTime),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # part of every signed link (tokens.py): raised to invalidate the links sent so far
    sa.Column("token_generation", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_subscribers_status", "status"),
)

digest_outbox = sa.Table(
    "digest_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
    sa.Column("digest_date", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending|sending|sent|failed|skipped
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("message_id", sa.String(255)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
    sa.UniqueConstraint("subscriber_id", "digest_date", name="uq_digest_outbox_subscriber_date"),
    sa.Index("ix_digest_outbox_date_status", "digest_date", "status"),
)

digest_sent_papers = sa.Table(
    "digest_sent_papers",
    metadata,
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), primary_key=True),
    sa.Column("paper_id", sa.String(64), primary_key=True),
    sa.Column("digest_date", sa.Date, nullable=False),
    sa.Index("ix_digest_sent_papers_paper", "paper_id"),
)

DIGEST_TABLES = (subscribers, digest_outbox, digest_sent_papers)

# E-mails sent on request (confirmations, links to manage a subscription), for the cap per
# address; rows older than the cap's window are deleted as new ones come (migration 8).
requested_mails = sa.Table(
    "requested_mails",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=False),
    sa.Index("ix_requested_mails_subscriber_sent", "subscriber_id", "sent_at"),
)
