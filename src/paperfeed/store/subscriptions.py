"""The subscriptions area of the store: digest subscribers, the digest outbox and the papers
each subscriber was sent (SQLAlchemy Core, dialect-neutral). Every method runs in its own
transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.errors import Conflict, NotFound
from paperfeed.models import (
    ACTIVE,
    BOUNCED,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    OUTBOX_SENT,
    OUTBOX_SKIPPED,
    PENDING,
    Follow,
    OutboxEntry,
    Preferences,
    Subscriber,
)
from paperfeed.store import rows
from paperfeed.store.chunks import CHUNK, chunks
from paperfeed.store.follows import (
    add_follows,
    load_follows,
    move_to_account,
    owner_of,
    preferences_json,
    replace_follows,
    with_follows,
)
from paperfeed.store.schema import (
    DIGEST_TABLES,
    digest_outbox,
    digest_sent_papers,
    metadata,
    requested_mails,
    subscribers,
)


def create_digest_tables(conn: Connection) -> None:
    """Migration body: the digest tables."""
    metadata.create_all(conn, tables=list(DIGEST_TABLES))


def add_link_generations_and_mail_log(conn: Connection) -> None:
    """Migration body: each subscriber's link generation (a database made before it has the
    column since its creation) and the log of e-mails sent on request."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("subscribers")}
    if "token_generation" not in columns:
        conn.exec_driver_sql(
            "ALTER TABLE subscribers ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0"
        )
    metadata.create_all(conn, tables=[requested_mails])


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _subscribers(conn: Connection, found: Sequence[Any]) -> list[Subscriber]:
    """Subscribers of `found` rows, with their follows (their account's when linked to one)."""
    by_user, by_subscriber = load_follows(
        conn,
        user_ids=[row["user_id"] for row in found if row["user_id"]],
        subscriber_ids=[row["id"] for row in found if not row["user_id"]],
    )
    return [
        _subscriber(
            row,
            by_user.get(row["user_id"], []) if row["user_id"] else by_subscriber.get(row["id"], []),
        )
        for row in found
    ]


def _subscriber(row: Any, follows: Sequence[Follow]) -> Subscriber:
    return Subscriber(
        id=row["id"],
        email=row["email"],
        status=row["status"],
        prefs=with_follows(Preferences.from_json(row["prefs"]), follows),
        user_id=row["user_id"],
        failures=row["failures"],
        created_at=rows.from_naive_utc(row["created_at"]),
        confirmed_at=rows.from_naive_utc(row["confirmed_at"]),
        token_generation=row["token_generation"],
    )


def _outbox(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        subscriber_id=row["subscriber_id"],
        digest_date=_date(row["digest_date"]),
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        message_id=row["message_id"],
        sent_at=rows.from_naive_utc(row["sent_at"]),
    )


class SubscriptionStore:
    """Digest subscribers and their outbox in one SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- subscribers -------------------------------------------------------------------------

    def add_subscriber(
        self, email: str, prefs: Preferences, *, user_id: int | None = None, status: str = PENDING
    ) -> Subscriber:
        """A new subscriber; Conflict when the address is already known. Linked to an account,
        the follows of `prefs` join the account's."""
        now = rows.utcnow()
        values = {
            "email": email.lower(),
            "status": status,
            "prefs": preferences_json(prefs),
            "user_id": user_id,
            "failures": 0,
            "created_at": now,
            "confirmed_at": now if status == ACTIVE else None,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as conn:
                inserted = conn.execute(subscribers.insert().values(**values)).inserted_primary_key
                assert inserted is not None
                add_follows(conn, owner_of(user_id, int(inserted[0])), prefs)
        except sa.exc.IntegrityError as error:
            raise Conflict(f"{email} is already subscribed or waiting for confirmation") from error
        return self.get_subscriber(int(inserted[0]))

    def get_subscriber(self, subscriber_id: int) -> Subscriber:
        with self.engine.connect() as conn:
            stmt = sa.select(subscribers).where(subscribers.c.id == subscriber_id)
            row = conn.execute(stmt).mappings().first()
            if row is None:
                raise NotFound(f"no subscriber {subscriber_id}")
            return _subscribers(conn, [row])[0]

    def find_subscriber(self, email: str) -> Subscriber | None:
        with self.engine.connect() as conn:
            stmt = sa.select(subscribers).where(subscribers.c.email == email.lower())
            row = conn.execute(stmt).mappings().first()
            return _subscribers(conn, [row])[0] if row else None

    def update_subscriber(
        self,
        subscriber_id: int,
        *,
        status: str | None = None,
        prefs: Preferences | None = None,
        user_id: int | None = None,
    ) -> Subscriber:
        """Change status, preferences or the linked account; activating resets failures. The
        follows of `prefs` become those of the linked account when there is one; a subscriber
        newly linked to an account brings their own follows to it."""
        values: dict[str, Any] = {"updated_at": rows.utcnow()}
        if status is not None:
            values["status"] = status
            if status == ACTIVE:
                values["failures"] = 0
                values["confirmed_at"] = sa.func.coalesce(subscribers.c.confirmed_at, rows.utcnow())
        if prefs is not None:
            values["prefs"] = preferences_json(prefs)
        if user_id is not None:
            values["user_id"] = user_id
        with self.engine.begin() as conn:
            linked = conn.execute(
                sa.select(subscribers.c.user_id).where(subscribers.c.id == subscriber_id)
            ).first()
            if linked is None:
                raise NotFound(f"no subscriber {subscriber_id}")
            if user_id is not None and linked.user_id is None:
                move_to_account(conn, subscriber_id, user_id)
            conn.execute(
                subscribers.update().where(subscribers.c.id == subscriber_id).values(**values)
            )
            if prefs is not None:
                replace_follows(conn, owner_of(user_id or linked.user_id, subscriber_id), prefs)
        return self.get_subscriber(subscriber_id)

    def next_token_generation(self, subscriber_id: int) -> Subscriber:
        """Raise the subscriber's link generation: the links made so far stop working."""
        with self.engine.begin() as conn:
            stmt = (
                subscribers.update()
                .where(subscribers.c.id == subscriber_id)
                .values(
                    token_generation=subscribers.c.token_generation + 1, updated_at=rows.utcnow()
                )
            )
            if conn.execute(stmt).rowcount == 0:
                raise NotFound(f"no subscriber {subscriber_id}")
        return self.get_subscriber(subscriber_id)

    def reserve_requested_mail(
        self, subscriber_id: int, *, now: dt.datetime, window: dt.timedelta, limit: int
    ) -> bool:
        """Record an e-mail to the subscriber sent on request, unless `limit` were recorded in
        the `window` before `now`; False (nothing recorded) when they were. The subscriber's
        row is locked meanwhile, so concurrent workers count each other's e-mails."""
        naive_now = rows.to_naive_utc(now)
        assert naive_now is not None
        since = naive_now - window
        mine = requested_mails.c.subscriber_id == subscriber_id
        with self.engine.begin() as conn:
            conn.execute(
                sa.select(subscribers.c.id)
                .where(subscribers.c.id == subscriber_id)
                .with_for_update()
            )
            conn.execute(requested_mails.delete().where(mine, requested_mails.c.sent_at < since))
            count = conn.execute(
                sa.select(sa.func.count()).select_from(requested_mails).where(mine)
            ).scalar_one()
            if count >= limit:
                return False
            conn.execute(
                requested_mails.insert().values(subscriber_id=subscriber_id, sent_at=naive_now)
            )
        return True

    def list_subscribers(
        self, *, status: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[Subscriber]:
        stmt = sa.select(subscribers).order_by(subscribers.c.id).offset(offset)
        if status is not None:
            stmt = stmt.where(subscribers.c.status == status)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return _subscribers(conn, conn.execute(stmt).mappings().all())

    def subscribers_by_ids(self, ids: Sequence[int]) -> dict[int, Subscriber]:
        found: dict[int, Subscriber] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(ids):
                stmt = sa.select(subscribers).where(subscribers.c.id.in_(chunk))
                batch = _subscribers(conn, conn.execute(stmt).mappings().all())
                found.update((subscriber.id, subscriber) for subscriber in batch)
        return found

    # -- outbox ------------------------------------------------------------------------------

    def plan_digests(self, digest_date: dt.date, subscriber_ids: Sequence[int]) -> int:
        """Outbox rows (pending) for these subscribers on `digest_date`, unless already there.
        Returns how many were added."""
        added = 0
        with self.engine.begin() as conn:
            for chunk in chunks(subscriber_ids):
                existing = set(
                    conn.execute(
                        sa.select(digest_outbox.c.subscriber_id).where(
                            digest_outbox.c.digest_date == digest_date,
                            digest_outbox.c.subscriber_id.in_(chunk),
                        )
                    ).scalars()
                )
                fresh = [
                    {
                        "subscriber_id": sid,
                        "digest_date": digest_date,
                        "status": OUTBOX_PENDING,
                        "attempts": 0,
                        "created_at": rows.utcnow(),
                    }
                    for sid in chunk
                    if sid not in existing
                ]
                if fresh:
                    conn.execute(digest_outbox.insert(), fresh)
                    added += len(fresh)
        return added

    def outbox(
        self, digest_date: dt.date, statuses: Sequence[str] | None = None
    ) -> list[OutboxEntry]:
        stmt = (
            sa.select(digest_outbox)
            .where(digest_outbox.c.digest_date == digest_date)
            .order_by(digest_outbox.c.id)
        )
        if statuses is not None:
            stmt = stmt.where(digest_outbox.c.status.in_(list(statuses)))
        with self.engine.connect() as conn:
            return [_outbox(row) for row in conn.execute(stmt).mappings()]

    def latest_digest(self) -> tuple[dt.date, int, int, dt.datetime | None] | None:
        """The latest digest date with messages planned: (date, messages sent, planned, when
        the last was sent); None before the first digest run."""
        with self.engine.connect() as conn:
            latest = conn.execute(sa.select(sa.func.max(digest_outbox.c.digest_date))).scalar()
            if latest is None:
                return None
            sent = sa.func.count().filter(digest_outbox.c.status == OUTBOX_SENT)
            stmt = sa.select(sent, sa.func.count(), sa.func.max(digest_outbox.c.sent_at)).where(
                digest_outbox.c.digest_date == latest
            )
            done, planned, last = conn.execute(stmt).one()
        return _date(latest), int(done), int(planned), rows.from_naive_utc(last)

    def claim_digest(self, entry_id: int, message_id: str) -> bool:
        """Mark a pending (or interrupted) row as being sent; False when it is already settled."""
        with self.engine.begin() as conn:
            done = conn.execute(
                digest_outbox.update()
                .where(
                    digest_outbox.c.id == entry_id,
                    digest_outbox.c.status.in_([OUTBOX_PENDING, OUTBOX_SENDING]),
                )
                .values(
                    status=OUTBOX_SENDING,
                    attempts=digest_outbox.c.attempts + 1,
                    message_id=message_id,
                )
            )
        return done.rowcount == 1

    def mark_digest_sent(self, entry: OutboxEntry, paper_ids: Sequence[str]) -> None:
        """Sent: record its papers (never sent again to this subscriber), clear failures."""
        with self.engine.begin() as conn:
            conn.execute(
                digest_outbox.update()
                .where(digest_outbox.c.id == entry.id)
                .values(status=OUTBOX_SENT, sent_at=rows.utcnow(), last_error=None)
            )
            self._record_sent(conn, entry.subscriber_id, entry.digest_date, paper_ids)
            conn.execute(
                subscribers.update()
                .where(subscribers.c.id == entry.subscriber_id, subscribers.c.failures != 0)
                .values(failures=0)
            )

    def _record_sent(
        self, conn: Connection, subscriber_id: int, digest_date: dt.date, paper_ids: Sequence[str]
    ) -> None:
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return
        known: set[str] = set()
        for chunk in chunks(ids):
            stmt = sa.select(digest_sent_papers.c.paper_id).where(
                digest_sent_papers.c.subscriber_id == subscriber_id,
                digest_sent_papers.c.paper_id.in_(chunk),
            )
            known.update(conn.execute(stmt).scalars())
        fresh = [
            {"subscriber_id": subscriber_id, "paper_id": pid, "digest_date": digest_date}
            for pid in ids
            if pid not in known
        ]
        if fresh:
            conn.execute(digest_sent_papers.insert(), fresh)

    def mark_digest_skipped(self, entry_ids: Sequence[int]) -> None:
        with self.engine.begin() as conn:
            for chunk in chunks(entry_ids):
                conn.execute(
                    digest_outbox.update()
                    .where(
                        digest_outbox.c.id.in_(chunk),
                        digest_outbox.c.status.in_([OUTBOX_PENDING, OUTBOX_SENDING]),
                    )
                    .values(status=OUTBOX_SKIPPED)
                )

    def mark_digest_retry(self, entry_id: int, error: str) -> None:
        """A temporary failure: back to pending for the next run."""
        with self.engine.begin() as conn:
            conn.execute(
                digest_outbox.update()
                .where(digest_outbox.c.id == entry_id)
                .values(status=OUTBOX_PENDING, last_error=error[:1000])
            )

    def mark_digest_failed(self, entry: OutboxEntry, error: str, *, max_failures: int) -> bool:
        """A permanent refusal: the row fails, the subscriber's failure count grows and at
        `max_failures` in a row they are marked bounced. Returns True when they were."""
        with self.engine.begin() as conn:
            conn.execute(
                digest_outbox.update()
                .where(digest_outbox.c.id == entry.id)
                .values(status=OUTBOX_FAILED, last_error=error[:1000])
            )
            conn.execute(
                subscribers.update()
                .where(subscribers.c.id == entry.subscriber_id)
                .values(failures=subscribers.c.failures + 1, updated_at=rows.utcnow())
            )
            bounced = conn.execute(
                subscribers.update()
                .where(
                    subscribers.c.id == entry.subscriber_id,
                    subscribers.c.failures >= max_failures,
                    subscribers.c.status == ACTIVE,
                )
                .values(status=BOUNCED)
            ).rowcount
        return bool(bounced)

    # -- what digests are made of ------------------------------------------------------------

    def sent_papers(
        self, subscriber_ids: Sequence[int], paper_ids: Sequence[str]
    ) -> set[tuple[int, str]]:
        """(subscriber, paper) pairs among these already sent in an earlier digest."""
        pairs: set[tuple[int, str]] = set()
        if not subscriber_ids or not paper_ids:
            return pairs
        wanted = set(subscriber_ids)
        with self.engine.connect() as conn:
            for chunk in chunks(paper_ids):
                stmt = sa.select(
                    digest_sent_papers.c.subscriber_id, digest_sent_papers.c.paper_id
                ).where(digest_sent_papers.c.paper_id.in_(chunk))
                if len(wanted) <= CHUNK:
                    stmt = stmt.where(digest_sent_papers.c.subscriber_id.in_(list(wanted)))
                pairs.update((s, p) for s, p in conn.execute(stmt) if s in wanted)
        return pairs
