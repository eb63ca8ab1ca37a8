"""Submitting an arXiv paper to today's feed."""

from __future__ import annotations

import datetime as dt
import logging

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.community import pending
from paperfeed.errors import Conflict, Forbidden, Invalid, InvalidRecord, Unavailable
from paperfeed.models import Paper, PendingSubmission, Submission, User
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)


def submit_paper(
    store: SqlStore,
    raw_id: str,
    user: User,
    *,
    lookup: pending.PaperLookup,
    now: dt.datetime,
    retry_delay: float,
) -> Paper | PendingSubmission:
    """Put the arXiv paper `raw_id` (id, versioned id or abs/pdf URL) on the feed of `now`'s day.

    A paper not yet in the store is fetched with `lookup` first; when that raises Unavailable
    (arXiv busy, slow or unreachable) the submission waits instead (see community.pending, the
    first retry `retry_delay` seconds later) and is returned as a PendingSubmission. Raises
    Invalid (not an arXiv id), Conflict (already submitted, or waiting), Forbidden (the paper
    was hidden by a moderator), NotFound (arXiv has no such paper).
    """
    try:
        paper_id, _version = parse_arxiv_id(raw_id or "")
    except InvalidRecord:
        raise Invalid(
            f"{(raw_id or '').strip()!r} is not an arXiv id: use e.g. 2401.01234, "
            "hep-th/9901001 or an arxiv.org/abs/ link"
        ) from None
    earlier = store.community.get_submission(paper_id) or store.community.pending.get(paper_id)
    if earlier is not None:
        raise Conflict(f"{paper_id} was already submitted on {earlier.day.isoformat()}")
    paper = store.papers.find_paper(paper_id)
    if paper is None:
        try:
            paper = lookup(paper_id)
        except Unavailable as error:
            return pending.defer(
                store, paper_id, user, now=now, error=error, retry_delay=retry_delay
            )
    if paper.hidden:
        raise Forbidden(f"{paper_id} was removed by the moderators")
    submission = Submission(
        paper_id=paper.id,
        day=now.date(),
        submitted_at=now,
        submitter=user.username,
        user_id=user.id,
        source="local",
    )
    store.community.submit(submission)  # a concurrent duplicate still raises Conflict here
    log.info("%s submitted %s", user.username, paper.id)
    return paper
