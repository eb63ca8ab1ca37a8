"""Votes and moderation: what readers and administrators may change about a paper."""

from __future__ import annotations

import logging

from paperfeed.arxiv_ids import canonical_id
from paperfeed.community.accounts import require_admin
from paperfeed.errors import Invalid, NotFound
from paperfeed.models import Paper, Submission, User
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

HIDE_TARGETS = ("paper", "submission")


def vote(store: SqlStore, paper_id: str, user: User, *, up: bool = True) -> bool:
    """Add (or with `up=False` take back) `user`'s upvote; False when nothing changed."""
    paper = store.papers.find_paper(paper_id)
    if paper is None or paper.hidden:
        raise NotFound(f"there is no paper {paper_id!r} here")
    if up:
        return store.community.add_vote(paper.id, user.id)
    return store.community.remove_vote(paper.id, user.id)


def set_hidden(
    store: SqlStore, user: User | None, paper_id: str, *, target: str, hidden: bool
) -> None:
    """Hide (or show again) a paper everywhere, or only its submission to the feed (admins)."""
    admin = require_admin(user)
    apply_hidden(store, paper_id, target=target, hidden=hidden, by=admin.username)


def apply_hidden(store: SqlStore, paper_id: str, *, target: str, hidden: bool, by: str) -> None:
    """Hide or show `target` of `paper_id`, on behalf of `by` (an administrator, or the operator
    at the command line, who needs no account); NotFound for an unknown paper."""
    if target not in HIDE_TARGETS:
        raise Invalid(f"target must be one of {', '.join(HIDE_TARGETS)}")
    if target == "paper":
        store.papers.set_paper_hidden(paper_id, hidden)
    else:
        store.community.set_submission_hidden(paper_id, hidden)
    log.info("%s set %s %s hidden=%s", by, target, paper_id, hidden)


def paper_for_reader(
    store: SqlStore, raw_id: str, user: User | None = None
) -> tuple[Paper, Submission | None]:
    """The paper `raw_id` names (any arXiv id form) with its submission, as `user` may see them:
    hidden papers and hidden submissions only to administrators. NotFound otherwise."""
    is_admin = bool(user and user.is_admin)
    paper = store.papers.find_paper(canonical_id(raw_id))
    if paper is None or (paper.hidden and not is_admin):
        raise NotFound(f"there is no paper {raw_id!r} here")
    submission = store.community.get_submission(paper.id)
    if submission is not None and submission.hidden and not is_admin:
        submission = None
    return paper, submission
