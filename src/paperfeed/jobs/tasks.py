"""The jobs and their schedules, defined once: every worker runs the same, and procrastinate
defers each periodic job once per tick however many workers there are.

- embed new and changed papers: every 5 minutes, and after a submission or a sync adds
  papers; one at a time;
- the digest: daily at ``digest_hour``, choose the dates and defer one batch job per range of
  ``digest_batch_size`` subscriber ids; the batches run side by side (digest/lock.py);
- look up submissions waiting for arXiv: every ``submit_retry_delay`` seconds;
- per source kind, every 5 minutes: defer a sync of each source whose time has come
  (sync/schedule.py); syncs run one at a time;
- twice per ``stalled_after``: run again the jobs of workers whose heartbeat stopped;
- daily: forget finished jobs older than a day (failed ones stay).

Failed jobs are retried with exponential backoff (RETRY); a periodic tick missed while no worker
ran is deferred when one starts, up to MISSED_TICKS_KEPT later (so a digest hour passed during
a deploy is still sent that day, as `serve`'s scheduler does).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import procrastinate

from paperfeed.core import PaperFeed
from paperfeed.digest.dates import default_dates
from paperfeed.errors import Unavailable
from paperfeed.models import SOURCE_KINDS
from paperfeed.store.job_queue import JobQueue, Task

log = logging.getLogger(__name__)

# Failed jobs run again after 5, 25, 125 s, then stay failed (`paperfeed jobs` counts them).
RETRY = procrastinate.RetryStrategy(max_attempts=4, exponential_wait=5)
MISSED_TICKS_KEPT = 6 * 3600  # seconds
EMBED_CRON = "*/5 * * * *"
SYNC_CRON = "*/5 * * * *"
CLEANUP_CRON = "17 3 * * *"
KEEP_FINISHED_HOURS = 24
SYNC_LOCK = "paperfeed.sync"  # syncs run one at a time (sync.lock holds it too)


class TryAgain(Unavailable):
    """A job could not finish its work now (another sender holds its lock, the mail server
    deferred messages): procrastinate runs it again later."""


def every(seconds: float) -> str:
    """A cron expression firing about every `seconds` (a seconds field below a minute)."""
    if seconds < 60:
        return f"* * * * * */{max(1, round(seconds))}"
    return f"*/{max(1, min(59, round(seconds / 60)))} * * * *"


def _tick(timestamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def build_app(
    feed: PaperFeed,
    queue: JobQueue,
    connector: procrastinate.BaseConnector,
    *,
    stalled_after: float,
) -> procrastinate.App:
    """The procrastinate app of `feed`'s deployment: its tasks and periodic schedules. `queue`
    defers the jobs that jobs add; a job whose worker sent no heartbeat for `stalled_after`
    seconds runs again."""
    app = procrastinate.App(connector=connector, periodic_defaults={"max_delay": MISSED_TICKS_KEPT})
    settings = feed.settings

    @app.periodic(cron=EMBED_CRON, periodic_id="catch-up")
    @app.task(name=Task.EMBED, lock=Task.EMBED, queueing_lock=Task.EMBED, retry=RETRY)
    def embed(timestamp: int | None = None) -> int:
        return feed.index()

    @app.task(name=Task.DIGEST_BATCH, retry=RETRY)
    def digest_batch(date: str, start: int, stop: int) -> dict[str, Any]:
        report = feed.digest.send(dt.date.fromisoformat(date), among=range(start, stop))
        if report.locked:
            raise TryAgain(f"another digest sender holds {date} {start}-{stop}")
        if report.deferred:
            raise TryAgain(f"{report.deferred} digest(s) deferred: {report.stopped or ''}")
        return report.as_dict()

    @app.task(name=Task.DIGEST, retry=RETRY)
    def digest(timestamp: int) -> int:
        batches = 0
        for choice in default_dates(feed.store, _tick(timestamp).date()):
            log.info("digest of %s: %s", choice.date, choice.why)
            for among in feed.digest.batches(choice.date, settings.digest_batch_size):
                lock = f"{Task.DIGEST_BATCH}:{choice.date}:{among.start}"
                queue.defer(
                    Task.DIGEST_BATCH,
                    lock=lock,
                    queueing_lock=lock,
                    date=choice.date.isoformat(),
                    start=among.start,
                    stop=among.stop,
                )
                batches += 1
        return batches

    if settings.digest_hour is not None:
        app.periodic(cron=f"0 {settings.digest_hour} * * *", periodic_id="daily")(digest)

    @app.periodic(cron=every(settings.submit_retry_delay), periodic_id="due")
    @app.task(
        name=Task.RETRY_SUBMISSIONS,
        lock=Task.RETRY_SUBMISSIONS,
        queueing_lock=Task.RETRY_SUBMISSIONS,
    )
    def retry_submissions(timestamp: int) -> int:
        return feed.community.retry_pending_submissions()

    @app.task(name=Task.SYNC_SOURCE, lock=SYNC_LOCK, retry=RETRY)
    def sync_source(source_id: int) -> dict[str, object]:
        report = feed.sync_service.sync_source(source_id, embed=False)
        if report.new:
            queue.embed_soon()
        return report.as_dict()

    @app.task(name=Task.SYNC_DUE)
    def sync_due(timestamp: int, kind: str) -> int:
        due = [s for s in feed.store.sources.due(_tick(timestamp)) if s.kind == kind]
        for source in due:
            lock = f"{Task.SYNC_SOURCE}:{source.id}"
            queue.defer(Task.SYNC_SOURCE, lock=SYNC_LOCK, queueing_lock=lock, source_id=source.id)
        return len(due)

    for kind in SOURCE_KINDS:
        app.periodic(cron=SYNC_CRON, periodic_id=kind, task_kwargs={"kind": kind})(sync_due)

    @app.periodic(cron=every(stalled_after / 2), periodic_id="heartbeats")
    @app.task(
        name=Task.RETRY_STALLED,
        lock=Task.RETRY_STALLED,
        queueing_lock=Task.RETRY_STALLED,
        pass_context=True,
    )
    async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> int:
        manager = context.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after))
        for job in stalled:
            log.warning("job %s (%s) lost its worker: running it again", job.id, job.task_name)
            await manager.retry_job(job)
        return len(stalled)

    @app.periodic(cron=CLEANUP_CRON, periodic_id="daily")
    @app.task(
        name=Task.FORGET_FINISHED,
        lock=Task.FORGET_FINISHED,
        queueing_lock=Task.FORGET_FINISHED,
        pass_context=True,
    )
    async def forget_finished(context: procrastinate.JobContext, timestamp: int) -> None:
        await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS)

    return app
