"""PaperFeed: the one object the CLI, the web app and the tests drive."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from paperfeed import listings, private_files
from paperfeed.community import accounts, moderation, pending, sessions, submissions
from paperfeed.config import Settings, load_settings
from paperfeed.errors import Conflict, Invalid, NotFound, Unavailable
from paperfeed.ingest import arxiv_api
from paperfeed.ingest.base import IngestReport, Record, Source
from paperfeed.ingest.http import FetchError, PoliteClient
from paperfeed.ingest.runner import ProgressCallback, run_ingest
from paperfeed.models import FeedItem, LoginSession, Paper, PendingSubmission, Submission, User
from paperfeed.store import SqlStore, open_store, store_exists
from paperfeed.store import copy as store_copy

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

# A person waits for a submission's arXiv lookup: within ``settings.arxiv_lookup_deadline``, one
# quick retry at most; then the submission waits for arXiv (community.pending).
LOOKUP_RETRIES = 1
LOOKUP_BACKOFF = 1.0
# Lookups waiting on arXiv at once (requests and the background retrier together): a slow arXiv
# holds at most this many web server threads; further submissions wait for arXiv at once.
LOOKUP_SLOTS = 4


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
        self._passwords = accounts.PasswordHashing(password_hasher)
        self._lookup_slots = threading.BoundedSemaphore(LOOKUP_SLOTS)

    def _now(self) -> dt.datetime:
        return self._clock()

    @cached_property
    def store(self) -> SqlStore:
        # The data dir holds the secret key, e-mails and (SQLite) the database: owner only.
        private_files.tighten(self.settings.data_dir, private_files.DIR_MODE)
        return open_store(self.settings.resolved_database_url)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        if "_retry_client" in self.__dict__ and self._arxiv_client is None:
            self._retry_client.close()

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

    def delete_account(self, user: User, password: str) -> dict[str, int]:
        """Delete `user` and all their data once `password` is theirs (Unauthorized if not)."""
        self.authenticate(user.username, password)
        return self.readers.delete(user)

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

    # -- community ---------------------------------------------------------------------------

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
            self.store, username, password, hashing=self._passwords, now=self._now()
        )

    # Log-in sessions (community.sessions): the token is the cookie's value.

    @property
    def _idle(self) -> dt.timedelta:
        return dt.timedelta(hours=self.settings.session_idle_hours)

    def start_session(self, user: User) -> tuple[str, LoginSession]:
        """A new session of `user`: (the token for its cookie, the session)."""
        return sessions.start(self.store, user, now=self._now(), idle=self._idle)

    def session(self, token: str) -> tuple[LoginSession, User] | None:
        """The live session of a cookie's token and its user; None when it has ended."""
        return sessions.resume(self.store, token, now=self._now(), idle=self._idle)

    def end_session(self, token: str) -> None:
        sessions.end(self.store, token)

    def end_all_sessions(self, user: User) -> int:
        """Log `user` out everywhere; returns how many sessions ended."""
        return sessions.end_all(self.store, user)

    def count_sessions(self, user: User) -> int:
        return sessions.count(self.store, user, now=self._now(), idle=self._idle)

    # Operators at the command line: no account needed.

    def users(self) -> list[User]:
        return self.store.community.admin.list_users()

    def remove_account(self, username: str) -> User:
        """Delete an account and all it holds, as `delete_account` does without its password."""
        user = self.store.community.get_user_by_username(username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        self.readers.delete(user)
        return user

    def set_password(self, username: str, password: str) -> User:
        """A new password (sign-up's policy), ending the account's sessions."""
        return accounts.change_password(self.store, username, password, hashing=self._passwords)

    def set_hidden_by_operator(self, paper_id: str, *, target: str, hidden: bool) -> None:
        moderation.apply_hidden(self.store, paper_id, target=target, hidden=hidden, by="operator")

    def store_exists(self) -> bool:
        """Whether the store is there already (opening a SQLite one that is not creates it)."""
        return store_exists(self.settings.resolved_database_url)

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
            now=self._now(),
            retry_delay=self.settings.submit_retry_delay,
        )

    def retry_pending_submissions(self) -> int:
        """Look up the submissions waiting for arXiv that are due again; returns how many were
        added to the feed."""
        return pending.retry_due(
            self.store,
            lookup=lambda paper_id: self._fetch_from_arxiv(paper_id, self._retry_client),
            now=self._now(),
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
        self.ingest(iter([Record(paper)]))
        if self.job_queue is not None:  # a worker embeds it (without the queue: serve's thread)
            self.job_queue.embed_soon()
        return self.store.papers.get_paper(paper.id)

    @property
    def content_versions(self) -> ContentVersions:
        """The store's content version, which moves with everything readers see (page caches
        key by it: store/content_version.py)."""
        return self.store.content

    def stats(self) -> dict[str, int]:
        return self.store.stats()


def copy_progress(source_url: str, target_url: str) -> tuple[int, int]:
    """(rows to copy in all, rows an earlier run already copied) from one store to another;
    NotFound when there is no store at `source_url` (opening it would make an empty one)."""
    if not store_exists(source_url):
        raise NotFound(f"no store to copy at {source_url}")
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
