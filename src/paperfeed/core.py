"""PaperFeed: the one object the CLI, the web app and the tests drive."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from paperfeed import listings
from paperfeed.community import accounts, moderation, submissions
from paperfeed.config import Settings, load_settings
from paperfeed.errors import NotFound, Unavailable
from paperfeed.ingest import arxiv_api
from paperfeed.ingest.base import IngestReport, Record, Source
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.ingest.runner import ProgressCallback, run_ingest
from paperfeed.models import FeedItem, Paper, Submission, User
from paperfeed.store import SqlStore, open_store

if TYPE_CHECKING:
    from paperfeed.digest.digests import DigestService
    from paperfeed.models import Paper
    from paperfeed.search.service import SearchResults, SearchService

log = logging.getLogger(__name__)

# A person waits for a submission's arXiv lookup: fail fast instead of the harvesters' back-off.
LOOKUP_RETRIES = 1
LOOKUP_BACKOFF = 2.0
LOOKUP_TIMEOUT = 20.0


class PaperFeed:
    """Wires the store, ingest, search, feed and digest together for one deployment."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        arxiv_client: PoliteClient | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """`arxiv_client` looks up submitted papers (default: a polite client that gives up
        fast); `clock` gives the aware UTC time (default: now)."""
        self.settings = settings or load_settings()
        self._arxiv_client = arxiv_client
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def _now(self) -> dt.datetime:
        return self._clock()

    @cached_property
    def store(self) -> SqlStore:
        return open_store(self.settings.resolved_database_url)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    def __enter__(self) -> PaperFeed:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- ingest ------------------------------------------------------------------------------

    def ingest(
        self,
        source: Source,
        *,
        on_progress: ProgressCallback | None = None,
        index_keywords: bool = True,
    ) -> IngestReport:
        """Import every record of `source`; returns counts and the skipped records.

        The keyword index catches up at the end unless `index_keywords` is False (then
        `catch_up_keyword_index` does it later); embeddings are computed by `index()`.
        """
        report = run_ingest(self.store, source, on_progress=on_progress)
        if index_keywords:
            self.store.papers.catch_up_keyword_index()
        return report

    def saved_position(self, key: str) -> str | None:
        """Where an interrupted import of `key` stopped (see ingest.base.Checkpoint)."""
        return self.store.get_state(key)

    # -- search ------------------------------------------------------------------------------

    @cached_property
    def search_service(self) -> SearchService:
        from paperfeed.search.service import SearchService

        return SearchService(self.store, self.settings)

    def search(
        self,
        q: str,
        *,
        limit: int = 20,
        offset: int = 0,
        sort: str = "relevance",
        category: str | None = None,
        author: str | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> SearchResults:
        """Hybrid keyword + semantic search (see paperfeed.search.query for the syntax)."""
        return self.search_service.search(
            q,
            limit=limit,
            offset=offset,
            sort=sort,
            category=category,
            author=author,
            date_from=date_from,
            date_to=date_to,
        )

    def similar(self, paper_id: str, limit: int = 10) -> list[Paper]:
        """Papers most like `paper_id` (NotFound when it is unknown)."""
        return self.search_service.similar(paper_id, limit=limit)

    def index(self, *, on_progress: ProgressCallback | None = None, rebuild: bool = False) -> int:
        """Embed new and changed papers (and rebuild the ANN index first if asked)."""
        if rebuild:
            self.search_service.rebuild_index()
        return self.search_service.index(on_progress=on_progress)

    # -- digests -----------------------------------------------------------------------------

    @cached_property
    def digest(self) -> DigestService:
        """Subscriptions and the e-mail digest (see paperfeed.digest.service)."""
        from paperfeed.digest.digests import DigestService

        return DigestService(self)

    # -- listings --------------------------------------------------------------------------

    def latest_day(self) -> dt.date:
        """The latest day with submissions, else today: what the daily page shows by default."""
        return listings.default_day(self.store, self._now().date())

    def listing(
        self, period: listings.Period, *, sort: str = "upvotes", limit: int = 50, offset: int = 0
    ) -> listings.FeedPage:
        """One page of the submissions of `period`, with links to the neighbouring periods."""
        return listings.feed_page(self.store, period, sort=sort, limit=limit, offset=offset)

    def trending(self, limit: int = 50) -> listings.Trending:
        """The trending submissions, by the deployment's gravity and window."""
        return listings.trending(self.store, self.settings, now=self._now(), limit=limit)

    def daily_papers(self, request: listings.DailyPapersRequest) -> list[FeedItem]:
        """One page of the Hub-compatible daily papers listing (``/api/daily_papers``)."""
        return listings.daily_papers(self.store, request, self.settings, now=self._now())

    # -- community ---------------------------------------------------------------------------

    def user(self, user_id: int) -> User | None:
        return self.store.community.get_user(user_id)

    def create_account(
        self, username: str, password: str, email: str | None = None, *, is_admin: bool = False
    ) -> User:
        """A new account (Invalid for an unusable name/password/e-mail, Conflict when taken)."""
        return accounts.create_account(self.store, username, password, email, is_admin=is_admin)

    def authenticate(self, username: str, password: str) -> User:
        """The account with these credentials; Unauthorized otherwise."""
        return accounts.authenticate(self.store, username, password)

    def set_admin(self, username: str, is_admin: bool = True) -> None:
        self.store.community.set_admin(username, is_admin)

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

    def vote(self, paper_id: str, user: User, *, up: bool = True) -> bool:
        """Upvote `paper_id` (or take the vote back); NotFound for unknown or hidden papers."""
        return moderation.vote(self.store, paper_id, user, up=up)

    def set_hidden(
        self, user: User | None, paper_id: str, *, target: str = "paper", hidden: bool = True
    ) -> None:
        """Hide a paper everywhere or only its feed submission (administrators only)."""
        moderation.set_hidden(self.store, user, paper_id, target=target, hidden=hidden)

    def submit(self, raw_id: str, user: User) -> Paper:
        """Put an arXiv paper on today's feed for `user`, fetching it from arXiv if needed."""
        return submissions.submit_paper(
            self.store, raw_id, user, lookup=self._fetch_from_arxiv, now=self._now()
        )

    def _fetch_from_arxiv(self, paper_id: str) -> Paper:
        """Fetch one paper from the arXiv API (a person waits: one quick retry) and store it."""
        client = self._arxiv_client or PoliteClient(
            delay=self.settings.arxiv_delay,
            max_retries=LOOKUP_RETRIES,
            backoff=LOOKUP_BACKOFF,
            timeout=LOOKUP_TIMEOUT,
        )
        try:
            (paper,) = arxiv_api.fetch_ids(
                [paper_id], base_url=self.settings.arxiv_api_url, client=client
            )
        except arxiv_api.UnknownPaper:
            raise NotFound(f"no such paper on arXiv: {paper_id}") from None
        except FetchError as error:
            log.warning("arXiv lookup of %s failed: %s", paper_id, error)
            raise Unavailable("arXiv could not be reached; try again in a few minutes") from None
        self.ingest(iter([Record(paper)]))
        return self.store.papers.get_paper(paper.id)

    def stats(self) -> dict[str, int]:
        return self.store.stats()
