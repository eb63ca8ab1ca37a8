"""What a signed-in user does besides voting: submit an arXiv paper to today's feed."""

from __future__ import annotations

import datetime as dt
import logging

from paperfeed.arxiv_ids import parse_arxiv_id
from paperfeed.core import PaperFeed
from paperfeed.errors import Conflict, Forbidden, Invalid, InvalidRecord, NotFound, Unavailable
from paperfeed.ingest import arxiv_api
from paperfeed.ingest.base import Record
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.models import Paper, Submission, User

log = logging.getLogger(__name__)

# A person is waiting for the answer: fail fast instead of the harvesters' long back-off.
LOOKUP_RETRIES = 1
LOOKUP_BACKOFF = 2.0
LOOKUP_TIMEOUT = 20.0


def submit_paper(
    feed: PaperFeed,
    raw_id: str,
    user: User,
    *,
    arxiv_url: str = arxiv_api.BASE_URL,
    now: dt.datetime | None = None,
) -> Paper:
    """Put the arXiv paper `raw_id` (id, versioned id or abs/pdf URL) on today's feed for `user`.

    A paper not yet in the store is fetched from arXiv first. Raises Invalid (not an arXiv id),
    Conflict (already submitted), NotFound (arXiv has no such paper), Unavailable (arXiv could not
    be reached) or Forbidden (the paper was hidden by a moderator).
    """
    try:
        paper_id, _version = parse_arxiv_id(raw_id or "")
    except InvalidRecord:
        raise Invalid(
            f"{raw_id.strip()!r} is not an arXiv id: use e.g. 2401.01234, hep-th/9901001 "
            "or an arxiv.org/abs/ link"
        ) from None
    store = feed.store
    earlier = store.community.get_submission(paper_id)
    if earlier is not None:
        raise Conflict(f"{paper_id} was already submitted on {earlier.day.isoformat()}")
    paper = store.papers.find_paper(paper_id) or _fetch(feed, paper_id, arxiv_url)
    if paper.hidden:
        raise Forbidden(f"{paper_id} was removed by the moderators")
    now = now or dt.datetime.now(dt.UTC)
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


def _fetch(feed: PaperFeed, paper_id: str, arxiv_url: str) -> Paper:
    client = PoliteClient(
        delay=feed.settings.arxiv_delay,
        max_retries=LOOKUP_RETRIES,
        backoff=LOOKUP_BACKOFF,
        timeout=LOOKUP_TIMEOUT,
    )
    try:
        with client:
            (paper,) = arxiv_api.fetch_ids([paper_id], base_url=arxiv_url, client=client)
    except arxiv_api.UnknownPaper:
        raise NotFound(f"no such paper on arXiv: {paper_id}") from None
    except FetchError as error:
        log.warning("arXiv lookup of %s failed: %s", paper_id, error)
        raise Unavailable("arXiv could not be reached; try again in a few minutes") from None
    feed.ingest(iter([Record(paper)]))
    return feed.store.papers.get_paper(paper.id)
