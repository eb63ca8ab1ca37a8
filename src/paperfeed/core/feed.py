"""PaperFeed: wires the store, ingest, search, listings, recommendations, readers, digests,
syncs and the community together for one deployment."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from paperfeed import listings, private_files
from paperfeed.config import Settings, load_settings
from paperfeed.core.community import Community
from paperfeed.errors import Invalid
from paperfeed.ingest.base import IngestReport, Record, Source
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.runner import ProgressCallback, run_ingest
from paperfeed.models import FeedItem, Paper
from paperfeed.store import SqlStore, open_store, store_exists

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from paperfeed.digest.deliver import Mailer
    from paperfeed.digest.digests import DailyDigestScheduler, DigestService
    from paperfeed.query import Query
    from paperfeed.readers import Readers
    from paperfeed.recommend import Recommender
    from paperfeed.recommend.for_library import LibraryRecommendations
    from paperfeed.search.embed import Embedder
    from paperfeed.search.engine import SearchEngine, SearchResults
    from paperfeed.search.indexing import SearchIndexer
    from paperfeed.store.content_version import ContentVersions
    from paperfeed.store.job_queue import JobQueue
    from paperfeed.sync.schedule import SyncScheduler
    from paperfeed.sync.service import SyncReport, SyncService
    from paperfeed.sync.status import Freshness, SyncStatus

log = logging.getLogger(__name__)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PaperFeed:
    """One deployment: its store and the services over it, each built on first use."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        mailer: Callable[[], Mailer] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        arxiv_client: PoliteClient | None = None,
        password_hasher: PasswordHasher | None = None,
        sync_client: PoliteClient | None = None,
    ) -> None:
        """The collaborators are built on first use when not given: `embedder` embeds papers
        and queries (default: the model named by ``settings.embedder``); `mailer` opens a mailer
        for one digest run (default: SMTP per ``settings.smtp``, else .eml files in the outbox
        directory); `clock` gives the aware UTC time (default: now); `arxiv_client` looks up
        submitted papers (default: a polite client that gives up fast); `password_hasher` hashes
        passwords (default: argon2id, 64 MiB; at most accounts.hashing_slots() at once);
        `sync_client` fetches the followed sources (default: polite clients per sync)."""
        self.settings = settings or load_settings()
        self._embedder = embedder
        self._mailer = mailer
        self._arxiv_client = arxiv_client
        self._sync_client = sync_client
        self._clock = clock or _utc_now
        self._password_hasher = password_hasher

    def _now(self) -> dt.datetime:
        return self._clock()

    @cached_property
    def store(self) -> SqlStore:
        # The data dir holds the secret key, e-mails and (SQLite) the database: owner only.
        private_files.tighten(self.settings.data_dir, private_files.DIR_MODE)
        return open_store(
            self.settings.resolved_database_url,
            keyword_index_dir=self.settings.keyword_index_dir,  # None: the environment's
        )

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        if "community" in self.__dict__:
            self.community.close()

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

    @property
    def job_queue(self) -> JobQueue | None:
        """PostgreSQL's job queue, where background work waits for `paperfeed worker`s
        (paperfeed.jobs); None when `serve` does it itself (SQLite, ``PAPERFEED_JOB_QUEUE=0``)."""
        if self.settings.job_queue is False:
            return None
        if self.settings.job_queue and self.store.job_queue is None:
            raise Invalid("PAPERFEED_JOB_QUEUE needs PostgreSQL: set PAPERFEED_DATABASE_URL")
        return self.store.job_queue

    # -- recommendations (paperfeed.recommend) -----------------------------------------------

    @cached_property
    def recommender(self) -> Recommender:
        """The one ranker of personal feeds: `rank(ReaderSignals, since, until, limit)`."""
        from paperfeed.recommend import Recommender

        return Recommender(
            self.store,
            self.search_engine,
            model=lambda: self.search_index.model,
            today=lambda: self._now().date(),
        )

    @cached_property
    def readers(self) -> Readers:
        """Readers' collections, follows, library imports, /for-you, author pages and account
        data (paperfeed.readers)."""
        from paperfeed.readers import Readers

        return Readers(
            self.store,
            recommender=lambda: self.recommender,
            search=lambda: self.search_engine,
            today=lambda: self._now().date(),
        )

    def recommend_library(
        self,
        data: bytes,
        filename: str | None = None,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        limit: int = 20,
    ) -> LibraryRecommendations:
        """A library file's best new papers (default: the last 7 days), nothing stored; its
        malformed and unmatched entries come back too (paperfeed.recommend.for_library)."""
        from paperfeed.recommend.for_library import recommend_for_library

        return recommend_for_library(
            self.store, self.recommender, data, filename, since=since, until=until, limit=limit
        )

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
        """For a web server: send the digests of the latest day with papers (see
        paperfeed.digest.dates) daily at ``settings.digest_hour`` (UTC) from a background
        thread; None when no hour is set."""
        from paperfeed.digest.digests import start_scheduler

        if self.settings.digest_hour is None:
            return None
        return start_scheduler(self.digest, self.settings.digest_hour, clock=self._clock)

    # -- followed sources (paperfeed.sync) --------------------------------------------------

    @cached_property
    def sync_service(self) -> SyncService:
        """Followed sources, their syncs and their status (see paperfeed.sync)."""
        from paperfeed.sync.service import SyncService

        return SyncService(
            self.store,
            self.settings,
            clock=self._clock,
            embed=self.index,
            pending_embeddings=lambda: self.search_index.pending(),
            client=self._sync_client,
        )

    def sync(
        self, source_ids: Sequence[int] | None = None, *, due_only: bool = False, embed: bool = True
    ) -> SyncReport:
        """Fetch what is new from the followed sources (all, those given, or with `due_only`
        those whose time has come) since their saved positions, import and index it, record
        each source's run; SyncInProgress when another sync does not end within seconds."""
        return self.sync_service.sync(source_ids, due_only=due_only, embed=embed)

    def sync_source(self, source_id: int) -> SyncReport:
        """Sync one followed source (one job of a job queue)."""
        return self.sync_service.sync_source(source_id)

    def sync_status(self) -> SyncStatus:
        """Per source: last success, last error, next run, papers added; papers waiting for
        embeddings; the last digest run."""
        return self.sync_service.status(scheduled=self.settings.sync_schedule is not False)

    def last_updated(self) -> Freshness | None:
        """When a sync last brought the feed up to date (the feed page says so)."""
        return self.sync_service.freshness()

    def start_sync_scheduler(self, run: Callable[[], object] | None = None) -> SyncScheduler | None:
        """For a web server: sync the sources whose time has come (see paperfeed.sync.schedule)
        from a background thread, with `run` (default: `sync_service.sync_due` in this
        process); None when ``settings.sync_schedule`` is off."""
        from paperfeed.sync.schedule import SyncScheduler

        if self.settings.sync_schedule is False:
            return None
        self.sync_service.schedule  # noqa: B018 - a bad schedule setting fails here, at start
        return SyncScheduler(self.sync_service.any_due, run or self.sync_service.sync_due).start()

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

    # -- community (core.community) ----------------------------------------------------------

    @cached_property
    def community(self) -> Community:
        """Accounts, log-in sessions, votes, moderation and submissions."""
        return Community(
            self.store,
            self.settings,
            clock=self._clock,
            add_paper=self._add_submitted_paper,
            delete_reader_data=lambda user: self.readers.delete(user),
            arxiv_client=self._arxiv_client,
            password_hasher=self._password_hasher,
        )

    def _add_submitted_paper(self, paper: Paper) -> Paper:
        """Store a paper fetched from arXiv for a submission and have it embedded."""
        self.ingest(iter([Record(paper)]))
        if self.job_queue is not None:  # a worker embeds it (without the queue: serve's thread)
            self.job_queue.embed_soon()
        return self.store.papers.get_paper(paper.id)

    def store_exists(self) -> bool:
        """Whether the store is there already (opening a SQLite one that is not creates it)."""
        return store_exists(self.settings.resolved_database_url)

    @property
    def content_versions(self) -> ContentVersions:
        """The store's content version, which moves with everything readers see (page caches
        key by it: store/content_version.py)."""
        return self.store.content

    def stats(self) -> dict[str, int]:
        return self.store.stats()
