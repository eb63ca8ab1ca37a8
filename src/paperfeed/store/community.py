"""The community area of the store: submissions to the daily feed, users and votes.

Hidden papers and hidden submissions: `get_submission` returns hidden submissions (for
moderators); what is listed for readers (`listing` unless asked otherwise, `submissions_since`,
and the days `latest_day` and `adjacent_days` point to) counts only visible submissions of
visible papers. A user's own votes (`voted_papers`, `votes_by_users`) are returned whatever the
paper's state.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from paperfeed.errors import Conflict, NotFound
from paperfeed.models import FeedItem, Submission, User
from paperfeed.store import rows
from paperfeed.store.chunks import chunks
from paperfeed.store.pending import PendingSubmissionStore
from paperfeed.store.schema import papers, submissions, users, votes
from paperfeed.store.user_admin import UserAdmin

# A submission readers may see: neither it nor its paper hidden.
_VISIBLE = sa.and_(papers.c.hidden == sa.false(), submissions.c.hidden == sa.false())
_WITH_PAPER = submissions.join(papers, papers.c.id == submissions.c.paper_id)
# Equal upvotes: newest listed first (Hugging Face's own time where it listed the paper), then
# in the order the papers arrived (an imported day keeps the order Hugging Face served it in).
_LISTED_AT = sa.func.coalesce(submissions.c.listed_at, submissions.c.submitted_at)


class CommunityStore:
    """Submissions, users and votes in one SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending = PendingSubmissionStore(engine)  # submissions waiting for arXiv
        self.admin = UserAdmin(engine)  # operators: list accounts, set passwords

    # -- submissions -------------------------------------------------------------------------

    def save_submissions(self, items: Iterable[Submission], conn: Connection | None = None) -> int:
        """Record submissions, one per paper (a repeat updates its upvotes); returns new ones."""
        if conn is None:
            with self.engine.begin() as conn:
                return self.save_submissions(items, conn)
        batch = list({s.paper_id: s for s in items}.values())
        if not batch:
            return 0
        existing: dict[str, int] = {}
        for chunk in chunks([s.paper_id for s in batch]):
            stmt = sa.select(submissions.c.paper_id, submissions.c.imported_upvotes).where(
                submissions.c.paper_id.in_(chunk)
            )
            existing.update((row.paper_id, row.imported_upvotes) for row in conn.execute(stmt))
        fresh = [rows.submission_values(s) for s in batch if s.paper_id not in existing]
        if fresh:
            conn.execute(submissions.insert(), fresh)
        deltas = [
            {"_id": s.paper_id, "_delta": s.imported_upvotes - existing.get(s.paper_id, 0)}
            for s in batch
            if s.imported_upvotes != existing.get(s.paper_id, 0)
        ]
        changed = [d for d in deltas if d["_id"] in existing]
        if changed:
            conn.execute(
                submissions.update()
                .where(submissions.c.paper_id == sa.bindparam("_id"))
                .values(imported_upvotes=submissions.c.imported_upvotes + sa.bindparam("_delta")),
                changed,
            )
        if deltas:
            conn.execute(
                papers.update()
                .where(papers.c.id == sa.bindparam("_id"))
                .values(upvotes=papers.c.upvotes + sa.bindparam("_delta")),
                deltas,
            )
        self._refresh_source_fields(conn, [s for s in batch if s.paper_id in existing and s.hf])
        return len(fresh)

    def _refresh_source_fields(self, conn: Connection, repeats: Sequence[Submission]) -> None:
        """A source's latest fields (comments, thumbnail...) for its own repeated submissions."""
        if repeats:
            conn.execute(
                submissions.update()
                .where(
                    submissions.c.paper_id == sa.bindparam("_id"),
                    submissions.c.source == sa.bindparam("_source"),
                )
                .values(
                    hf=sa.bindparam("_hf", type_=submissions.c.hf.type),
                    listed_at=sa.bindparam("_listed", type_=submissions.c.listed_at.type),
                ),
                [
                    {
                        "_id": s.paper_id,
                        "_source": s.source,
                        "_hf": s.hf,
                        "_listed": rows.to_naive_utc(s.listed_at),
                    }
                    for s in repeats
                ],
            )

    def submit(self, submission: Submission) -> None:
        """A user's submission of a stored paper to the feed; a second one is a Conflict.
        (Whether a hidden paper may be submitted is the caller's rule.)"""
        with self.engine.begin() as conn:
            known = conn.execute(sa.select(papers.c.id).where(papers.c.id == submission.paper_id))
            if known.first() is None:
                raise NotFound(f"no paper {submission.paper_id!r}")
            taken = conn.execute(
                sa.select(submissions.c.day).where(submissions.c.paper_id == submission.paper_id)
            ).first()
            if taken is not None:
                raise Conflict(f"{submission.paper_id} was already submitted on {taken.day}")
            conn.execute(submissions.insert().values(**rows.submission_values(submission)))

    def get_submission(self, paper_id: str) -> Submission | None:
        """The paper's submission, hidden or not."""
        with self.engine.connect() as conn:
            stmt = sa.select(submissions).where(submissions.c.paper_id == paper_id)
            row = conn.execute(stmt).mappings().first()
        return rows.submission_from_row(row) if row else None

    def visible_submissions(self, paper_ids: Sequence[str]) -> dict[str, Submission]:
        """The visible submission of each of `paper_ids` that has one (hidden ones left out)."""
        found: dict[str, Submission] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(paper_ids)):
                stmt = sa.select(submissions).where(
                    submissions.c.paper_id.in_(chunk), ~submissions.c.hidden
                )
                for row in conn.execute(stmt).mappings():
                    found[row["paper_id"]] = rows.submission_from_row(row)
        return found

    def set_submission_hidden(self, paper_id: str, hidden: bool) -> None:
        with self.engine.begin() as conn:
            stmt = submissions.update().where(submissions.c.paper_id == paper_id)
            done = conn.execute(stmt.values(hidden=hidden))
        if done.rowcount == 0:
            raise NotFound(f"no submission of {paper_id!r}")

    # -- the feed ----------------------------------------------------------------------------

    def listing(
        self,
        start: dt.date,
        end: dt.date,
        *,
        sort: str = "upvotes",
        limit: int = 50,
        offset: int = 0,
        submitter: str | None = None,
        include_hidden: bool = False,
    ) -> list[FeedItem]:
        """Submissions with ``start <= day <= end``, best-voted (or newest) first. Hidden
        submissions and submissions of hidden papers are left out unless `include_hidden`."""
        order: list[Any] = (
            [papers.c.upvotes.desc(), _LISTED_AT.desc(), papers.c.key]
            if sort == "upvotes"
            else [submissions.c.submitted_at.desc(), papers.c.upvotes.desc()]
        )
        stmt = _feed_select().order_by(*order, papers.c.id).limit(limit).offset(offset)
        # Only bounded ends: an open range would make SQLite read and sort every submission
        # rather than walk the submission-time index (every day, newest first: 67 -> 1 ms).
        if start > dt.date.min:
            stmt = stmt.where(submissions.c.day >= start)
        if end < dt.date.max:
            stmt = stmt.where(submissions.c.day <= end)
        if submitter:
            stmt = stmt.where(submissions.c.submitter == submitter)
        if not include_hidden:
            stmt = stmt.where(_VISIBLE)
        with self.engine.connect() as conn:
            result = conn.execute(stmt).mappings().all()
        return [_feed_item(row) for row in result]

    def submissions_since(self, since: dt.datetime, limit: int = 500) -> list[FeedItem]:
        """Submissions made at or after `since` (for trending), most upvoted first. Hidden
        submissions and submissions of hidden papers are left out."""
        stmt = (
            _feed_select()
            .where(submissions.c.submitted_at >= rows.to_naive_utc(since), _VISIBLE)
            .order_by(papers.c.upvotes.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_feed_item(row) for row in conn.execute(stmt).mappings()]

    def adjacent_days(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The nearest days before and after `day` with a visible submission of a visible
        paper."""
        with self.engine.connect() as conn:
            before = conn.execute(
                _visible_days().where(submissions.c.day < day).order_by(submissions.c.day.desc())
            ).scalar()
            after = conn.execute(
                _visible_days().where(submissions.c.day > day).order_by(submissions.c.day)
            ).scalar()
        return rows.as_date(before), rows.as_date(after)

    def latest_day(self, on_or_before: dt.date | None = None) -> dt.date | None:
        """The last day (up to `on_or_before` if given) with a visible submission of a visible
        paper."""
        stmt = _visible_days().order_by(submissions.c.day.desc())
        if on_or_before is not None:
            stmt = stmt.where(submissions.c.day <= on_or_before)
        with self.engine.connect() as conn:
            day = conn.execute(stmt).scalar()
        return rows.as_date(day)

    # -- users -------------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        password_hash: str | None,
        email: str | None = None,
        *,
        is_admin: bool = False,
    ) -> User:
        values: dict[str, Any] = {
            "username": username,
            "email": email,
            "password_hash": password_hash,
            "is_admin": is_admin,
            "created_at": rows.utcnow(),
        }
        try:
            with self.engine.begin() as conn:
                inserted = conn.execute(users.insert().values(**values)).inserted_primary_key
        except sa.exc.IntegrityError as error:
            raise Conflict(f"the user name {username!r} or that e-mail is already taken") from error
        assert inserted is not None
        return User(id=int(inserted[0]), **values)

    def _user_where(self, clause: sa.ColumnElement[bool]) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(clause)).mappings().first()
        return rows.user_from_row(row) if row else None

    def get_user(self, user_id: int) -> User | None:
        return self._user_where(users.c.id == user_id)

    def get_user_by_username(self, username: str) -> User | None:
        """The user of that name, whatever its case (`ALICE` is `alice`)."""
        return self._user_where(_same_name(username))

    def get_user_by_email(self, email: str) -> User | None:
        """The user with that e-mail address, whatever its case."""
        return self._user_where(sa.func.lower(users.c.email) == sa.func.lower(email))

    def set_admin(self, username: str, is_admin: bool = True) -> None:
        with self.engine.begin() as conn:
            stmt = users.update().where(_same_name(username)).values(is_admin=is_admin)
            if conn.execute(stmt).rowcount == 0:
                raise NotFound(f"no user {username!r}")

    # -- votes -------------------------------------------------------------------------------

    def add_vote(self, paper_id: str, user_id: int) -> bool:
        """Upvote once; returns False when the user had already voted for the paper.
        (Whether a hidden paper may be voted for is the caller's rule.)"""
        with self.engine.begin() as conn:
            if conn.execute(sa.select(papers.c.key).where(papers.c.id == paper_id)).first() is None:
                raise NotFound(f"no paper {paper_id!r}")
            exists = conn.execute(
                sa.select(votes.c.user_id).where(
                    votes.c.paper_id == paper_id, votes.c.user_id == user_id
                )
            ).first()
            if exists:
                return False
            conn.execute(
                votes.insert().values(paper_id=paper_id, user_id=user_id, created_at=rows.utcnow())
            )
            conn.execute(
                papers.update().where(papers.c.id == paper_id).values(upvotes=papers.c.upvotes + 1)
            )
        return True

    def remove_vote(self, paper_id: str, user_id: int) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                votes.delete().where(votes.c.paper_id == paper_id, votes.c.user_id == user_id)
            )
            if done.rowcount == 0:
                return False
            conn.execute(
                papers.update().where(papers.c.id == paper_id).values(upvotes=papers.c.upvotes - 1)
            )
        return True

    def voted_papers(self, user_id: int, paper_ids: Sequence[str] | None = None) -> set[str]:
        """The ids of the papers (hidden or not) the user voted for, among `paper_ids` if given."""
        stmt = sa.select(votes.c.paper_id).where(votes.c.user_id == user_id)
        with self.engine.connect() as conn:
            if paper_ids is None:
                return set(conn.execute(stmt).scalars())
            found: set[str] = set()
            for chunk in chunks(paper_ids):
                found.update(conn.execute(stmt.where(votes.c.paper_id.in_(chunk))).scalars())
            return found

    def votes_by_users(self, user_ids: Sequence[int], per_user: int = 20) -> dict[int, list[str]]:
        """Each user's most recent upvoted paper ids (newest first, hidden papers included), at
        most `per_user`."""
        found: dict[int, list[str]] = defaultdict(list)
        with self.engine.connect() as conn:
            for chunk in chunks(dict.fromkeys(user_ids)):
                stmt = (
                    sa.select(votes.c.user_id, votes.c.paper_id)
                    .where(votes.c.user_id.in_(chunk))
                    .order_by(votes.c.user_id, votes.c.created_at.desc())
                )
                for user_id, paper_id in conn.execute(stmt):
                    if len(found[user_id]) < per_user:
                        found[user_id].append(paper_id)
        return dict(found)


def _same_name(username: str) -> sa.ColumnElement[bool]:
    """Names compare without case, by the unique index on lower(username)."""
    return sa.func.lower(users.c.username) == sa.func.lower(username)


def _feed_select() -> sa.Select[Any]:
    """Papers with their submission's columns (labelled ``s_<name>``)."""
    return sa.select(papers, *[c.label("s_" + c.name) for c in submissions.c]).join(
        submissions, submissions.c.paper_id == papers.c.id
    )


def _visible_days() -> sa.Select[Any]:
    """The first submission day in the order given of a visible submission and paper: walks
    the day index until one is visible (min()/max() would read every row of a join)."""
    return sa.select(submissions.c.day).select_from(_WITH_PAPER).where(_VISIBLE).limit(1)


def _feed_item(row: Any) -> FeedItem:
    paper = rows.paper_from_row(row)
    submission = rows.submission_from_row({c.name: row["s_" + c.name] for c in submissions.c})
    return FeedItem(paper=paper, submission=submission, upvotes=paper.upvotes)
