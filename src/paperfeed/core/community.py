"""Community: the accounts, log-in sessions, votes, moderation and submissions of one deployment
(paperfeed.community), as the faces use them through `PaperFeed.community`."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from paperfeed.community import accounts, moderation, pending, sessions, submissions
from paperfeed.config import Settings
from paperfeed.errors import NotFound, Unavailable
from paperfeed.ingest import arxiv_api
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.models import LoginSession, Paper, PendingSubmission, Submission, User
from paperfeed.store import SqlStore

if TYPE_CHECKING:
    from argon2 import PasswordHasher

log = logging.getLogger(__name__)

# A person waits for a submission's arXiv lookup: within ``settings.arxiv_lookup_deadline``, one
# quick retry at most; then the submission waits for arXiv (community.pending).
LOOKUP_RETRIES = 1
LOOKUP_BACKOFF = 1.0
# Lookups waiting on arXiv at once (requests and the background retrier together): a slow arXiv
# holds at most this many web server threads; further submissions wait for arXiv at once.
LOOKUP_SLOTS = 4


class Community:
    """Accounts, sessions, votes, moderation and submissions over one store."""

    def __init__(
        self,
        store: SqlStore,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime],
        add_paper: Callable[[Paper], Paper],
        delete_reader_data: Callable[[User], dict[str, int]],
        arxiv_client: PoliteClient | None = None,
        password_hasher: PasswordHasher | None = None,
    ) -> None:
        """`add_paper` stores a paper fetched for a submission (and has it embedded) and returns
        it as stored; `delete_reader_data` deletes an account with everything in it; the others
        as in `PaperFeed`."""
        self.store = store
        self.settings = settings
        self._clock = clock
        self._add_paper = add_paper
        self._delete_reader_data = delete_reader_data
        self._arxiv_client = arxiv_client
        self._passwords = accounts.PasswordHashing(password_hasher)
        self._lookup_slots = threading.BoundedSemaphore(LOOKUP_SLOTS)

    def close(self) -> None:
        if "_retry_client" in self.__dict__ and self._arxiv_client is None:
            self._retry_client.close()

    # -- accounts ----------------------------------------------------------------------------

    def user(self, user_id: int) -> User | None:
        return self.store.community.get_user(user_id)

    def create_account(
        self, username: str, password: str, email: str | None = None, *, is_admin: bool = False
    ) -> User:
        """A new account (Invalid for an unusable name/password/e-mail, Conflict when the name
        is taken; an e-mail address another account has is left out, without saying so)."""
        return accounts.create_account(
            self.store, username, password, email, is_admin=is_admin, hashing=self._passwords
        )

    def authenticate(self, username: str, password: str) -> User:
        """The account with these credentials; Unauthorized otherwise, RateLimited while the
        name is locked after failed log-ins, Unavailable when too many are checked at once."""
        return accounts.authenticate(
            self.store, username, password, hashing=self._passwords, now=self._clock()
        )

    def delete_account(self, user: User, password: str) -> dict[str, int]:
        """Delete `user` and all their data once `password` is theirs (Unauthorized if not)."""
        self.authenticate(user.username, password)
        return self._delete_reader_data(user)

    # -- log-in sessions (community.sessions): the token is the cookie's value --------------

    @property
    def _idle(self) -> dt.timedelta:
        return dt.timedelta(hours=self.settings.session_idle_hours)

    def start_session(self, user: User) -> tuple[str, LoginSession]:
        """A new session of `user`: (the token for its cookie, the session)."""
        return sessions.start(self.store, user, now=self._clock(), idle=self._idle)

    def session(self, token: str) -> tuple[LoginSession, User] | None:
        """The live session of a cookie's token and its user; None when it has ended."""
        return sessions.resume(self.store, token, now=self._clock(), idle=self._idle)

    def end_session(self, token: str) -> None:
        sessions.end(self.store, token)

    def end_all_sessions(self, user: User) -> int:
        """Log `user` out everywhere; returns how many sessions ended."""
        return sessions.end_all(self.store, user)

    def count_sessions(self, user: User) -> int:
        return sessions.count(self.store, user, now=self._clock(), idle=self._idle)

    # -- operators at the command line: no account needed -----------------------------------

    def users(self) -> list[User]:
        return self.store.community.admin.list_users()

    def remove_account(self, username: str) -> User:
        """Delete an account and all it holds, as `delete_account` does without its password."""
        user = self.store.community.get_user_by_username(username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        self._delete_reader_data(user)
        return user

    def set_password(self, username: str, password: str) -> User:
        """A new password (sign-up's policy), ending the account's sessions."""
        return accounts.change_password(self.store, username, password, hashing=self._passwords)

    def set_admin(self, username: str, is_admin: bool = True) -> None:
        self.store.community.set_admin(username, is_admin)

    def set_hidden_by_operator(self, paper_id: str, *, target: str, hidden: bool) -> None:
        moderation.apply_hidden(self.store, paper_id, target=target, hidden=hidden, by="operator")

    # -- papers as readers see them, votes and moderation -----------------------------------

    def paper_for_reader(
        self, raw_id: str, user: User | None = None
    ) -> tuple[Paper, Submission | None]:
        """A paper and its submission as `user` may see them (NotFound for hidden ones)."""
        return moderation.paper_for_reader(self.store, raw_id, user)

    def voted(self, user: User | None, paper_ids: Sequence[str]) -> set[str]:
        """Which of `paper_ids` `user` has upvoted."""
        if user is None or not paper_ids:
            return set()
        return self.store.community.voted_papers(user.id, list(paper_ids))

    def visible_submissions(self, paper_ids: Sequence[str]) -> dict[str, Submission]:
        """The feed submission of each paper that has a visible one."""
        return self.store.community.visible_submissions(paper_ids)

    def vote(self, paper_id: str, user: User, *, up: bool = True) -> bool:
        """Upvote `paper_id` (or take the vote back); NotFound for unknown or hidden papers."""
        return moderation.vote(self.store, paper_id, user, up=up)

    def set_hidden(
        self, user: User | None, paper_id: str, *, target: str = "paper", hidden: bool = True
    ) -> None:
        """Hide a paper everywhere or only its feed submission (administrators only)."""
        moderation.set_hidden(self.store, user, paper_id, target=target, hidden=hidden)

    # -- submissions -------------------------------------------------------------------------

    def submit(self, raw_id: str, user: User) -> Paper | PendingSubmission:
        """Put an arXiv paper on today's feed for `user`, fetching it from arXiv if needed.
        When arXiv does not answer within ``settings.arxiv_lookup_deadline`` the submission
        waits (a PendingSubmission is returned) and `retry_pending_submissions` adds it later;
        NotFound when arXiv has no such paper."""
        return submissions.submit_paper(
            self.store,
            raw_id,
            user,
            lookup=self._fetch_from_arxiv,
            now=self._clock(),
            retry_delay=self.settings.submit_retry_delay,
        )

    def retry_pending_submissions(self) -> int:
        """Look up the submissions waiting for arXiv that are due again; returns how many were
        added to the feed."""
        return pending.retry_due(
            self.store,
            lookup=lambda paper_id: self._fetch_from_arxiv(paper_id, self._retry_client),
            now=self._clock(),
            retry_delay=self.settings.submit_retry_delay,
        )

    def start_submission_retrier(self, every: float | None = None) -> pending.Retrier:
        """For a web server: `retry_pending_submissions` every `every` seconds (default:
        ``settings.submit_retry_delay``) in a daemon thread; `stop()` ends it."""
        every = self.settings.submit_retry_delay if every is None else every
        return pending.Retrier(self.retry_pending_submissions, every).start()

    def _new_lookup_client(self) -> PoliteClient:
        return PoliteClient(
            delay=self.settings.arxiv_delay,
            max_retries=LOOKUP_RETRIES,
            backoff=LOOKUP_BACKOFF,
            timeout=self.settings.arxiv_lookup_deadline,
        )

    @cached_property
    def _retry_client(self) -> PoliteClient:
        """The background retries' arXiv client: one for all, so its delay between requests
        holds from one lookup to the next."""
        return self._arxiv_client or self._new_lookup_client()

    def _fetch_from_arxiv(self, paper_id: str, client: PoliteClient | None = None) -> Paper:
        """Fetch one paper from the arXiv API with `client` (else the one given to the
        constructor, else a new one) within ``settings.arxiv_lookup_deadline`` in all, and store
        it. NotFound when arXiv has none; Unavailable when it does not answer in time, or when
        LOOKUP_SLOTS lookups are waiting already."""
        if not self._lookup_slots.acquire(blocking=False):
            raise Unavailable(f"{LOOKUP_SLOTS} arXiv lookups are waiting already")
        owned: PoliteClient | None = None
        try:
            http = client or self._arxiv_client
            if http is None:
                http = owned = self._new_lookup_client()
            with http.deadline(self.settings.arxiv_lookup_deadline):
                (paper,) = arxiv_api.fetch_ids(
                    [paper_id], base_url=self.settings.arxiv_api_url, client=http
                )
        except arxiv_api.UnknownPaper:
            raise NotFound(f"no such paper on arXiv: {paper_id}") from None
        except FetchError as error:
            log.warning("arXiv lookup of %s failed: %s", paper_id, error)
            raise
        finally:
            self._lookup_slots.release()
            if owned is not None:
                owned.close()
        return self._add_paper(paper)
