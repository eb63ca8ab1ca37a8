"""Running syncs: one at a time across processes; every source's run recorded with its outcome.

A sync of a source fetches what is new since its cursor (sync/fetch.py) and imports it through
the ordinary ingest path (batches, one transaction each; a position saved only after its records
are committed); the keyword index then catches up and the new papers are embedded. A source that
fails (unreachable, 503, a timeout, an answer that is not what it should be) is recorded as
failed with the reason and retried later (sync/schedule.py); the other sources go on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from paperfeed.config import Settings
from paperfeed.errors import PaperfeedError
from paperfeed.ingest.base import IngestReport
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.runner import run_ingest
from paperfeed.models import FollowedSource
from paperfeed.store import SqlStore
from paperfeed.sync.fetch import Fetcher
from paperfeed.sync.lock import SyncInProgress, sync_lock
from paperfeed.sync.schedule import Schedule
from paperfeed.sync.sources import normalize_source
from paperfeed.sync.status import DigestRun, Freshness, SourceStatus, SyncStatus

log = logging.getLogger(__name__)

LOCK_WAIT = 5.0  # seconds a sync waits for one in progress before it gives up
HF_DELAY = 0.5  # seconds between Hugging Face requests (arXiv's is settings.arxiv_delay)
HTTP_TIMEOUT = 60.0

Clock = Callable[[], dt.datetime]


@dataclass(slots=True)
class SourceResult:
    """How one source's sync went."""

    source: FollowedSource
    run_id: int
    report: IngestReport
    steps: list[str] = field(default_factory=list)  # the steps completed (and committed)
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        counts = self.report.as_dict()
        counts["skipped"] = len(self.report.skipped)
        return {
            "source": self.source.id,
            "kind": self.source.kind,
            "value": self.source.value,
            "run": self.run_id,
            "status": "failed" if self.error else "ok",
            "error": self.error,
            "steps": self.steps,
            **counts,
        }


@dataclass(slots=True)
class SyncReport:
    results: list[SourceResult]
    keyword_indexed: int = 0
    embedded: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # fetch_import, keyword, embed

    @property
    def failed(self) -> list[SourceResult]:
        return [r for r in self.results if r.error]

    @property
    def new(self) -> int:
        return sum(r.report.new for r in self.results)

    def as_dict(self) -> dict[str, object]:
        return {
            "sources": [r.as_dict() for r in self.results],
            "new": self.new,
            "keyword_indexed": self.keyword_indexed,
            "embedded": self.embedded,
            "failed": len(self.failed),
            "seconds": {name: round(value, 2) for name, value in self.seconds.items()},
        }


class SyncService:
    """Followed sources, their syncs and their status, for one store."""

    def __init__(
        self,
        store: SqlStore,
        settings: Settings,
        *,
        clock: Clock,
        embed: Callable[[], int],
        pending_embeddings: Callable[[], int],
        client: PoliteClient | None = None,
    ) -> None:
        """`embed` embeds new papers (returns how many); `pending_embeddings` counts the papers
        waiting for it; `client` fetches from every source (default: polite clients built per
        sync, with ``settings.arxiv_delay`` between arXiv requests)."""
        self.store = store
        self.settings = settings
        self._clock = clock
        self._embed = embed
        self._pending_embeddings = pending_embeddings
        self._client = client

    @cached_property
    def schedule(self) -> Schedule:
        return Schedule.from_settings(self.settings)

    # -- sources -----------------------------------------------------------------------------

    def add_source(self, kind: str, value: str = "") -> FollowedSource:
        """Follow a source (Invalid for an unknown kind or category, Conflict when followed
        already); its first sync goes ``settings.sync_first_days`` back."""
        kind, value = normalize_source(kind, value)
        return self.store.sources.add(kind, value, self._clock())

    def remove_source(self, source_id: int) -> FollowedSource:
        """Stop following a source; the papers it brought stay."""
        return self.store.sources.remove(source_id)

    def sources(self) -> list[FollowedSource]:
        return self.store.sources.all()

    def any_due(self) -> bool:
        """Whether a source's scheduled time has come (the scheduler's poll)."""
        return bool(self.store.sources.due(self._clock()))

    # -- syncing -----------------------------------------------------------------------------

    def sync(
        self,
        source_ids: Sequence[int] | None = None,
        *,
        due_only: bool = False,
        embed: bool = True,
        wait: float = LOCK_WAIT,
    ) -> SyncReport:
        """Sync the given sources (default: all; with `due_only`, those whose time has come),
        then catch up the keyword index and, with `embed`, embed the new papers. SyncInProgress
        when another sync holds the lock for more than `wait` seconds; NotFound for an unknown
        source id."""
        started = time.perf_counter()
        with sync_lock(self.store, self.settings.data_dir, wait=wait):
            self.store.sources.abandon_running(self._clock())
            chosen = self._chosen(source_ids, due_only)
            with self._fetcher() as fetcher:
                results = [self._sync_one(source, fetcher) for source in chosen]
            imported = time.perf_counter()
            indexed = self.store.papers.catch_up_keyword_index() if results else 0
        report = SyncReport(results, keyword_indexed=indexed)
        report.seconds = {
            "fetch_import": imported - started,
            "keyword": time.perf_counter() - imported,
        }
        if embed and any(r.report.new or r.report.updated for r in results):
            embedding = time.perf_counter()
            try:
                report.embedded = self._embed()
            except Exception:  # the papers stay searchable by keyword; `index` embeds later
                log.exception("embedding the synced papers failed")
            report.seconds["embed"] = time.perf_counter() - embedding
        return report

    def sync_source(self, source_id: int, *, embed: bool = True) -> SyncReport:
        """Sync one source (a job queue's unit of work)."""
        return self.sync([source_id], embed=embed)

    def sync_due(self) -> SyncReport | None:
        """The scheduler's run: the due sources, unless another sync is running (None)."""
        try:
            return self.sync(due_only=True, wait=0)
        except SyncInProgress:
            log.info("scheduled sync skipped: another sync is in progress")
            return None

    def _chosen(self, source_ids: Sequence[int] | None, due_only: bool) -> list[FollowedSource]:
        if due_only:
            return self.store.sources.due(self._clock())
        if source_ids is None:
            return self.store.sources.all()
        return [self.store.sources.get(source_id) for source_id in source_ids]

    @contextlib.contextmanager
    def _fetcher(self) -> Iterator[Fetcher]:
        with contextlib.ExitStack() as owned:
            arxiv, hf = self._client, self._client
            if arxiv is None or hf is None:
                delay = self.settings.arxiv_delay
                arxiv = owned.enter_context(PoliteClient(delay=delay, timeout=HTTP_TIMEOUT))
                hf = owned.enter_context(PoliteClient(delay=HF_DELAY, timeout=HTTP_TIMEOUT))
            yield Fetcher(
                self.settings, arxiv_client=arxiv, hf_client=hf, saved_position=self.store.get_state
            )

    def _sync_one(self, source: FollowedSource, fetcher: Fetcher) -> SourceResult:
        result = SourceResult(
            source, self.store.sources.start_run(source.id, self._clock()), IngestReport()
        )
        try:
            for step in fetcher.steps(source, self._clock().date()):
                _add(result.report, run_ingest(self.store, iter(step.records())))
                self.store.sources.save_cursor(source.id, step.cursor)
                result.steps.append(step.description)
        except Exception as error:  # recorded with its reason; the other sources go on
            result.error = _reason(error)
            log.warning("sync of %s failed: %s", source.label, result.error)
        finished = self._clock()
        if result.error is None:
            next_run = self.schedule.next_run(source.kind, finished)
        else:
            next_run = self.schedule.retry_at(source.kind, source.failures + 1, finished)
        counts = {
            "read": result.report.read,
            "new": result.report.new,
            "updated": result.report.updated,
            "submissions": result.report.submissions,
        }
        self.store.sources.finish_run(
            result.run_id, finished, counts=counts, error=result.error, next_run_at=next_run
        )
        return result

    # -- status ------------------------------------------------------------------------------

    def freshness(self) -> Freshness | None:
        """When the feed was last brought up to date by a sync; None before the first."""
        at = self.store.sources.last_success()
        return None if at is None else Freshness(at, self._clock())

    def status(self, *, scheduled: bool) -> SyncStatus:
        """Per source its last success and error, next run and papers added; papers waiting
        for embeddings; the last digest run. `scheduled`: whether the scheduler runs here."""
        runs = self.store.sources.latest_runs()
        digest = self.store.subscriptions.latest_digest()
        return SyncStatus(
            now=self._clock(),
            sources=[SourceStatus(s, runs.get(s.id)) for s in self.sources()],
            scheduled=scheduled,
            last_updated=self.store.sources.last_success(),
            waiting_for_embeddings=self._pending_embeddings(),
            keyword_backlog=self.store.papers.pending_keyword_rows(),
            last_digest=None if digest is None else DigestRun(*digest),
        )


def _add(total: IngestReport, part: IngestReport) -> None:
    total.read += part.read
    total.new += part.new
    total.updated += part.updated
    total.unchanged += part.unchanged
    total.submissions += part.submissions
    total.skipped.extend(part.skipped)


def _reason(error: Exception) -> str:
    if isinstance(error, PaperfeedError):  # FetchError: "<url>: HTTP 503, gave up after ..."
        return str(error)
    return f"{type(error).__name__}: {error}"
