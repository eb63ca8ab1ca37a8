"""DigestService: compose, render and deliver one date's digests exactly once per subscriber.

Delivery goes through the ``digest_outbox`` table, one row per (subscriber, digest date):

1. plan: a pending row for every active subscriber due that day (unique per subscriber and
   date, so re-runs add nothing);
2. claim: the row becomes ``sending`` with the digest's Message-ID, committed before SMTP;
3. send, then mark ``sent`` and record the papers in the same transaction.

A row marked sent is never sent again, so re-running a date (cron retries, a second worker, a
run killed half-way) only sends what is still pending. The one window left is a crash after
the mail server accepted a message but before step 3 committed: that row is still ``sending``
and the next run sends it again, with the same Message-ID. So a crash costs at most one
duplicate hand-over per crash, which receivers that de-duplicate by Message-ID (Gmail, most
archives) collapse into one message; with the file outbox the copy replaces the same file.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from paperfeed.config import Settings
from paperfeed.digest.compose import (
    DEFAULT_OPTIONS,
    Candidates,
    ComposeOptions,
    Composer,
    Digest,
    VectorSource,
    is_due,
    load_candidates,
    period_for,
)
from paperfeed.digest.dates import default_dates
from paperfeed.digest.deliver import (
    DeliveryError,
    Mailer,
    RetryPolicy,
    open_mailer,
    send_with_retries,
)
from paperfeed.digest.lock import sender_lock
from paperfeed.digest.optin import Subscriptions
from paperfeed.digest.render import Renderer
from paperfeed.errors import Unavailable
from paperfeed.models import ACTIVE, OUTBOX_PENDING, OUTBOX_SENDING, OutboxEntry, Subscriber
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

MAX_TEMPORARY_IN_A_ROW = 3  # temporary failures in a row after which a run gives up


@dataclass(slots=True)
class DigestReport:
    date: dt.date
    dry_run: bool = False
    chosen: str | None = None  # why this date, when the run was given none (send_default)
    locked: bool = False  # another sender held the lock: nothing was done
    due: int = 0  # active subscribers due on this date
    planned: int = 0  # outbox rows added by this run
    resumed: int = 0  # rows left "sending" by an interrupted run, sent again
    sent: int = 0
    skipped: int = 0  # nothing new for them, or they left since planning
    failed: int = 0  # refused for good (5xx)
    bounced: int = 0  # subscribers dropped after too many failures
    deferred: int = 0  # temporary failures, left pending for the next run
    already_done: int = 0  # rows settled by earlier runs
    papers: int = 0  # papers in the digests composed
    where: str = ""  # the SMTP server or the outbox directory
    stopped: str | None = None  # why the run stopped early
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["date"] = self.date.isoformat()
        return data

    def summary(self) -> str:
        if self.locked:
            return f"{self.date}: another digest run is in progress; nothing done"
        verb = "would send" if self.dry_run else "sent"
        count = self.due if self.dry_run else self.sent
        parts = [f"{self.date}: {verb} {count} digest(s)"]
        for name in ("resumed", "skipped", "failed", "bounced", "deferred", "already_done"):
            if value := getattr(self, name):
                parts.append(f"{name.replace('_', ' ')} {value}")
        if self.where and not self.dry_run:
            parts.append(f"via {self.where}")
        if self.stopped:
            parts.append(f"stopped: {self.stopped}")
        return ", ".join(parts) + f" ({self.seconds:.1f}s)"


Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DigestService:
    """Subscriptions and digests of one deployment: its store and settings, the vectors of
    search (None: digests without similarity ranking), how to open a mailer (default: SMTP
    per ``settings.smtp``, else .eml files), how to wait between retries and the UTC clock."""

    def __init__(
        self,
        store: SqlStore,
        settings: Settings,
        *,
        vectors: VectorSource | None = None,
        mailer: Callable[[], Mailer] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = utc_now,
        options: ComposeOptions = DEFAULT_OPTIONS,
    ) -> None:
        self.store = store
        self.settings = settings
        self.vectors = vectors
        self._mailer_factory = mailer or (lambda: open_mailer(settings))
        self._sleep = sleep
        self._clock = clock
        self.options = options

    @cached_property
    def renderer(self) -> Renderer:
        return Renderer(
            self.settings.base_url,
            self.settings.smtp.sender,
            self.settings.resolved_secret_key(),
            clock=self._clock,
        )

    @cached_property
    def subscriptions(self) -> Subscriptions:
        return Subscriptions(
            self.store,
            self.renderer,
            self._mailer_factory,
            mails_per_day=self.settings.confirmation_mails_per_day,
            clock=self._clock,
        )

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.settings.digest_retry_attempts, self.settings.digest_retry_delay)

    # -- composing ---------------------------------------------------------------------------

    def compose(self, date: dt.date, subscribers: Sequence[Subscriber]) -> list[Digest]:
        """Each subscriber's digest for `date`, in the order given."""
        wants_vectors = any(
            s.prefs.searches or (s.prefs.like_upvoted and s.user_id) for s in subscribers
        )
        vectors = self.vectors if wants_vectors else None
        by_start: dict[dt.date, list[int]] = defaultdict(list)
        for i, subscriber in enumerate(subscribers):
            by_start[period_for(subscriber.prefs, date)].append(i)
        digests: list[Digest | None] = [None] * len(subscribers)
        query_cache: dict[str, Any] = {}
        for start, positions in by_start.items():
            candidates = self.candidates(start, date, vectors)
            composer = Composer(
                self.store, candidates, vectors, self.options, query_cache=query_cache
            )
            for i, digest in zip(
                positions, composer.compose(date, [subscribers[i] for i in positions]), strict=True
            ):
                digests[i] = digest
        return [d for d in digests if d is not None]

    def candidates(self, start: dt.date, end: dt.date, vectors: VectorSource | None) -> Candidates:
        return load_candidates(
            self.store,
            start,
            end,
            vectors=vectors,
            gravity=self.settings.trending_gravity,
            options=self.options,
        )

    def due_subscribers(self, date: dt.date, among: range | None = None) -> list[Subscriber]:
        """Active subscribers due on `date` (whose id is in `among`, if given)."""
        return [
            s
            for s in self.store.subscriptions.list_subscribers(status=ACTIVE)
            if is_due(s.prefs, date) and (among is None or s.id in among)
        ]

    def batches(self, date: dt.date, size: int) -> list[range]:
        """The ranges of `size` subscriber ids (multiples of `size`) with someone to send
        `date`'s digest to: for `send(date, among=...)`, side by side (the job queue's unit)."""
        open_rows = self.store.subscriptions.outbox(date, [OUTBOX_PENDING, OUTBOX_SENDING])
        ids = {s.id for s in self.due_subscribers(date)} | {e.subscriber_id for e in open_rows}
        return [range(start, start + size) for start in sorted({i - i % size for i in ids})]

    # -- sending -----------------------------------------------------------------------------

    def send_default(
        self, *, dry_run: bool = False, today: dt.date | None = None
    ) -> list[DigestReport]:
        """`send` the digests of the dates a run given none sends (dates.default_dates); each
        report says why its date."""
        reports = []
        for choice in default_dates(self.store, today or self._clock().date()):
            log.info("no date given: the digest of %s", choice.why)
            report = self.send(choice.date, dry_run=dry_run)
            report.chosen = choice.why
            reports.append(report)
        return reports

    def send(
        self, date: dt.date, *, dry_run: bool = False, among: range | None = None
    ) -> DigestReport:
        """Send `date`'s digests to every due subscriber not yet served (whose id is in
        `among`, if given: one of `batches`, which other senders may send meanwhile).
        Idempotent: safe to run from cron every hour, or again after a crash."""
        started = time.perf_counter()
        report = DigestReport(date=date, dry_run=dry_run)
        batch = None if among is None else f"{date}.{among.start}-{among.stop}"
        with sender_lock(self.store, self.settings.data_dir, batch) as acquired:
            if not acquired:
                report.locked = True
            elif dry_run:
                self._dry_run(date, report, among)
            else:
                self._send(date, report, among)
        report.seconds = time.perf_counter() - started
        log.info("digest %s", report.summary())
        return report

    def _dry_run(self, date: dt.date, report: DigestReport, among: range | None) -> None:
        due = self.due_subscribers(date, among)
        settled = {
            e.subscriber_id
            for e in self.store.subscriptions.outbox(date)
            if e.status not in (OUTBOX_PENDING, OUTBOX_SENDING)
        }
        todo = [s for s in due if s.id not in settled]
        report.already_done = len(due) - len(todo)
        report.due = len(todo)
        for digest in self.compose(date, todo):
            if digest.is_empty:
                report.skipped += 1
            else:
                self.renderer.render_digest(digest)
                report.papers += len(digest.paper_ids)

    def _send(self, date: dt.date, report: DigestReport, among: range | None) -> None:
        due = self.due_subscribers(date, among)
        report.due = len(due)
        report.planned = self.store.subscriptions.plan_digests(date, [s.id for s in due])
        entries = [
            e
            for e in self.store.subscriptions.outbox(date)
            if among is None or e.subscriber_id in among
        ]
        open_entries = [e for e in entries if e.status in (OUTBOX_PENDING, OUTBOX_SENDING)]
        report.already_done = len(entries) - len(open_entries)
        report.resumed = sum(e.status == OUTBOX_SENDING for e in open_entries)
        subscribers = self.store.subscriptions.subscribers_by_ids(
            [e.subscriber_id for e in open_entries]
        )
        active = {sid for sid, s in subscribers.items() if s.status == ACTIVE}
        live = [e for e in open_entries if e.subscriber_id in active]
        gone = [e.id for e in open_entries if e.subscriber_id not in active]
        digests = self.compose(date, [subscribers[e.subscriber_id] for e in live])
        empty = [e.id for e, d in zip(live, digests, strict=True) if d.is_empty]
        self.store.subscriptions.mark_digest_skipped(gone + empty)
        report.skipped = len(gone) + len(empty)
        work = [(e, d) for e, d in zip(live, digests, strict=True) if not d.is_empty]
        if not work:
            return
        mailer = self._mailer_factory()
        report.where = mailer.where
        try:
            self._deliver(work, mailer, report)
        finally:
            mailer.close()

    def _deliver(
        self, work: list[tuple[OutboxEntry, Digest]], mailer: Mailer, report: DigestReport
    ) -> None:
        temporary_in_a_row = 0
        for done, (entry, digest) in enumerate(work, start=1):
            rendered = self.renderer.render_digest(digest)
            message = self.renderer.digest_message(rendered)
            if not self.store.subscriptions.claim_digest(entry.id, rendered.message_id):
                report.already_done += 1
                continue
            try:
                send_with_retries(mailer, message, self.retry_policy, sleep=self._sleep)
            except DeliveryError as error:
                report.errors.append(f"{digest.subscriber.email}: {error}")
                if error.fatal:
                    self.store.subscriptions.mark_digest_retry(entry.id, str(error))
                    report.stopped = str(error)
                    raise Unavailable(f"the mail server refuses to send: {error}") from error
                if error.permanent:
                    report.failed += 1
                    bounced = self.store.subscriptions.mark_digest_failed(
                        entry, str(error), max_failures=self.settings.digest_max_failures
                    )
                    report.bounced += bounced
                    temporary_in_a_row = 0
                    continue
                self.store.subscriptions.mark_digest_retry(entry.id, str(error))
                report.deferred += 1
                temporary_in_a_row += 1
                if temporary_in_a_row >= MAX_TEMPORARY_IN_A_ROW:
                    report.stopped = (
                        f"{temporary_in_a_row} temporary failures in a row: "
                        "the rest waits for the next run"
                    )
                    report.deferred += len(work) - done
                    return
                continue
            temporary_in_a_row = 0
            self.store.subscriptions.mark_digest_sent(entry, rendered.paper_ids)
            report.sent += 1
            report.papers += len(rendered.paper_ids)


class DailyDigestScheduler:
    """Sends the digests of `DigestService.send_default` once a day at
    ``settings.digest_hour`` (UTC), from a background thread of the web server. Any number of
    workers may run one: the sender lock and the outbox make the extra ones no-ops."""

    def __init__(
        self,
        service: DigestService,
        hour: int,
        *,
        clock: Clock = utc_now,
        poll_seconds: float = 60.0,
    ) -> None:
        if not 0 <= hour <= 23:
            raise ValueError("digest_hour must be between 0 and 23")
        self.service = service
        self.hour = hour
        self._clock = clock
        self._poll = poll_seconds
        self._done_for: dt.date | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pending(self) -> list[DigestReport]:
        """Send today's run if its hour has come and this scheduler has not done it yet (the
        reports of the dates sent; none when it was not time)."""
        now = self._clock()
        if now.hour < self.hour or self._done_for == now.date():
            return []
        reports = self.service.send_default(today=now.date())
        if not any(r.locked for r in reports):
            self._done_for = now.date()
        return reports

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:  # keep the scheduler alive; the next poll retries
                log.exception("scheduled digest run failed")
            self._stop.wait(self._poll)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="digest-scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


def start_scheduler(
    service: DigestService, hour: int | None, *, clock: Clock = utc_now
) -> DailyDigestScheduler | None:
    """For the web server's startup: a running scheduler when `hour` (the deployment's
    ``digest_hour``) is set, else None."""
    if hour is None:
        return None
    scheduler = DailyDigestScheduler(service, hour, clock=clock)
    scheduler.start()
    return scheduler
