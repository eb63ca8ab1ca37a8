"""Submissions that wait for arXiv.

A submission whose paper arXiv cannot give in time (busy, slow or unreachable: the lookup made
while a person waits has a short deadline) is recorded instead of failing, and looked up again
in the background with growing waits. When the paper comes, it becomes a submission for the same
user and day; when arXiv says there is no such paper, it is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from paperfeed.errors import Conflict, NotFound, Unavailable
from paperfeed.models import Paper, PendingSubmission, Submission, User
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

PaperLookup = Callable[[str], Paper]  # fetches (and stores) a paper the store lacks
MAX_RETRY_DELAY = 3600.0  # seconds: the longest wait between two lookups of one paper
LEASE = dt.timedelta(minutes=10)  # how long other processes leave an entry being looked up


def next_wait(attempts: int, retry_delay: float, retry_after: float | None) -> dt.timedelta:
    """The wait after `attempts` failed lookups: `retry_delay` doubling each time, at most
    MAX_RETRY_DELAY, never shorter than the Retry-After the service asked for."""
    seconds = min(retry_delay * 2 ** (attempts - 1), MAX_RETRY_DELAY)
    return dt.timedelta(seconds=max(seconds, retry_after or 0.0))


def defer(
    store: SqlStore,
    paper_id: str,
    user: User,
    *,
    now: dt.datetime,
    error: Unavailable,
    retry_delay: float,
) -> PendingSubmission:
    """Record `user`'s submission of `paper_id` after a first lookup failed with `error`
    (Conflict when the paper already waits)."""
    pending = PendingSubmission(
        paper_id=paper_id,
        day=now.date(),
        submitted_at=now,
        user_id=user.id,
        next_attempt_at=now + next_wait(1, retry_delay, error.retry_after),
        last_error=str(error),
    )
    store.community.pending.add(pending)
    log.info("%s submitted %s; arXiv did not answer in time (%s)", user.username, paper_id, error)
    return pending


def retry_due(store: SqlStore, *, lookup: PaperLookup, now: dt.datetime, retry_delay: float) -> int:
    """Look up the waiting submissions due at `now` again; returns how many became submissions."""
    added = 0
    for pending in store.community.pending.claim_due(now, LEASE):
        try:
            paper = store.papers.find_paper(pending.paper_id) or lookup(pending.paper_id)
        except Unavailable as error:
            wait = next_wait(pending.attempts + 1, retry_delay, error.retry_after)
            store.community.pending.reschedule(pending.paper_id, now + wait, str(error))
            log.info("%s still waits for arXiv (%s); next try in %s", pending.paper_id, error, wait)
            continue
        except NotFound as error:
            log.warning("dropping the waiting submission of %s: %s", pending.paper_id, error)
            store.community.pending.remove(pending.paper_id)
            continue
        added += _complete(store, pending, paper)
    return added


def _complete(store: SqlStore, pending: PendingSubmission, paper: Paper) -> int:
    """Turn `pending` into its submission (unless that can no longer be); 1 if it was."""
    user = store.community.get_user(pending.user_id)
    added = 0
    if paper.hidden or user is None:
        log.info("%s arrived but is hidden or its submitter is gone: not added", paper.id)
    else:
        submission = Submission(
            paper_id=paper.id,
            day=pending.day,
            submitted_at=pending.submitted_at,
            submitter=user.username,
            user_id=user.id,
            source="local",
        )
        try:
            store.community.submit(submission)
            added = 1
            log.info("%s's waiting submission of %s added", user.username, paper.id)
        except Conflict as error:
            log.info("%s: %s", paper.id, error)
    store.community.pending.remove(pending.paper_id)
    return added


class Retrier:
    """Calls `retry` (one pass over the due submissions) every `every` seconds in a daemon
    thread until `stop()`; a pass that fails is logged and the next one runs."""

    def __init__(self, retry: Callable[[], int], every: float) -> None:
        self._retry = retry
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="paperfeed-pending", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._retry()
            except Exception:
                log.exception("retrying the submissions that wait for arXiv failed")

    def start(self) -> Retrier:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the pass under way; wait for it `timeout` seconds at most (a daemon
        thread does not keep the process alive, and each store write is one transaction)."""
        self._stop.set()
        self._thread.join(timeout)
