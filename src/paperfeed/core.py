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
from paperfeed.errors import Conflict, NotFound, Unavailable
from paperfeed.ingest import arxiv_api
from paperfeed.ingest.base import IngestReport, Record, Source
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.ingest.runner import ProgressCallback, run_ingest
from paperfeed.models import FeedItem, Paper, Submission, User
from paperfeed.store import SqlStore, open_store
from paperfeed.store import copy as store_copy

if TYPE_CHECKING:
    import threading

    from paperfeed.digest.deliver import Mailer
    from paperfeed.digest.digests import DailyDigestScheduler, DigestService
    from paperfeed.query import Query
    from paperfeed.search.embed import Embedder
    from paperfeed.search.engine import SearchEngine, SearchResults
    from paperfeed.search.indexing import SearchIndexer

log = logging.getLogger(__name__)

# A person waits for a submission's arXiv lookup: fail fast instead of the harvesters' back-off.
LOOKUP_RETRIES = 1
LOOKUP_BACKOFF = 2.0
LOOKUP_TIMEOUT = 20.0


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PaperFeed:
    """Wires the store, ingest, search, feed and digest together for one deployment."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        mailer: Callable[[], Mailer] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        arxiv_client: PoliteClient | None = None,
    ) -> None:
        """The collaborators are built on first use when not given: `embedder` embeds papers
        and queries (default: the model named by ``settings.embedder``); `mailer` opens a mailer
        for one digest run (default: SMTP per ``settings.smtp``, else .eml files in the outbox
        directory); `clock` gives the aware UTC time (default: now); `arxiv_client` looks up
        submitted papers (default: a polite client that gives up fast)."""
        self.settings = settings or load_settings()
        self._embedder = embedder
        self._mailer = mailer
        self._arxiv_client = arxiv_client
        self._clock = clock or _utc_now

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
    def search_index(self) -> SearchIndexer:
        """The embeddings and the ANN index (embedding new papers, sync, rebuild, counts)."""
        from paperfeed.search.indexing import SearchIndexer

        return SearchIndexer(self.store, self.settings, embedder=self._embedder)

    @cached_property
    def search_engine(self) -> SearchEngine:
        """Answers searches and finds similar papers, with the vectors of `search_index`."""
        from paperfeed.search.engine import SearchEngine

        return SearchEngine(self.store, self.search_index)

    def search(self, query: Query, *, mode: str = "hybrid") -> SearchResults:
        """Hybrid keyword + semantic search for a parsed query (``paperfeed.query.parse_query``
        builds one from the text and a form's filters); `mode` "keyword" or "dense" searches
        one side only."""
        return self.search_engine.search(query, mode=mode)

    def similar(self, paper_id: str, limit: int = 10) -> list[Paper]:
        """Papers most like `paper_id` (NotFound when it is unknown)."""
        return self.search_engine.similar(paper_id, limit=limit)

    def index(self, *, on_progress: ProgressCallback | None = None, rebuild: bool = False) -> int:
        """Embed new and changed papers (and rebuild the ANN index first if asked)."""
        if rebuild:
            self.search_index.rebuild_index()
        return self.search_index.index(on_progress=on_progress)

    def index_in_background(self, every: float | None = None) -> threading.Thread:
        """Embed new papers in a daemon thread, again every `every` seconds if given."""
        return self.search_index.index_in_background(every=every)

    # -- digests -----------------------------------------------------------------------------

    @cached_property
    def digest(self) -> DigestService:
        """Subscriptions and the e-mail digest (see paperfeed.digest.digests)."""
        from paperfeed.digest.digests import DigestService

        try:
            vectors: SearchEngine | None = self.search_engine
        except ImportError as error:  # e.g. no vector index library: rank without similarity
            log.warning("digests without similarity ranking: search unavailable (%s)", error)
            vectors = None
        return DigestService(
            self.store, self.settings, vectors=vectors, mailer=self._mailer, clock=self._clock
        )

    def start_digest_scheduler(self) -> DailyDigestScheduler | None:
        """For a web server: send yesterday's digests daily at ``settings.digest_hour`` (UTC)
        from a background thread; None when no hour is set."""
        from paperfeed.digest.digests import start_scheduler

        if self.settings.digest_hour is None:
            return None
        return start_scheduler(self.digest, self.settings.digest_hour, clock=self._clock)

    # -- keyword index -----------------------------------------------------------------------

    def count_papers(self) -> int:
        return self.store.papers.count_papers()

    def keyword_backlog(self) -> int:
        """Papers (or changes) the keyword index has not caught up with yet."""
        return self.store.papers.pending_keyword_rows()

    def catch_up_keyword_index(
        self, *, on_progress: ProgressCallback | None = None, rebuild: bool = False
    ) -> int:
        """Bring the keyword index up to date with the papers (from scratch with `rebuild`)."""
        return self.store.papers.catch_up_keyword_index(on_progress=on_progress, rebuild=rebuild)

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


def copy_progress(source_url: str, target_url: str) -> tuple[int, int]:
    """(rows to copy in all, rows an earlier run already copied) from one store to another."""
    source, target = open_store(source_url), open_store(target_url)
    try:
        tables = store_copy.copied_tables(source, target)
        done = sum(store_copy.count_rows(target, tables).values())
        return sum(store_copy.count_rows(source, tables).values()), done
    finally:
        source.close()
        target.close()


def copy_database(
    source_url: str,
    target_url: str,
    *,
    batch_size: int = 2000,
    on_progress: ProgressCallback | None = None,
) -> store_copy.CopyReport:
    """Copy every paper, account, vote, digest, embedding and ingest position into another store,
    keeping keys; an interrupted copy continues where it stopped (Conflict when the target holds
    rows no copy wrote)."""
    source, target = open_store(source_url), open_store(target_url)
    try:
        return store_copy.copy_store(source, target, batch_size=batch_size, on_progress=on_progress)
    except store_copy.CopyError as error:
        raise Conflict(str(error)) from error
    finally:
        source.close()
        target.close()
