"""A worker killed (SIGKILL) in the middle of a digest batch: the other worker notices the
missing heartbeat, runs the job again and completes it; every subscriber gets one digest."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from paperfeed.core import PaperFeed
from paperfeed.store.job_queue import Task
from tests.jobs.conftest import StartWorker, subscribe
from tests.support.digest import Recorder
from tests.support.factories import DAY

pytestmark = pytest.mark.backends("postgres")

SUBSCRIBERS, K = 8, 3  # the SMTP server holds message K+1 until the sender is killed


def _batch(db: sa.Engine) -> sa.Row:
    with db.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT j.status::text, "
                "(SELECT count(*) FROM procrastinate_events e "
                " WHERE e.job_id = j.id AND e.type = 'started') AS starts "
                "FROM procrastinate_jobs j WHERE j.task_name = :task"
            ),
            {"task": Task.DIGEST_BATCH.value},
        ).one()


def test_job_of_a_killed_worker_is_run_again_by_the_other(
    queue_feed: PaperFeed,
    smtp: tuple[Recorder, int],
    start_worker: StartWorker,
    queue_db: sa.Engine,
) -> None:
    recorder, _ = smtp
    addresses = subscribe(queue_feed, SUBSCRIBERS)
    recorder.hold_after = K
    queue = queue_feed.job_queue
    assert queue is not None
    next_morning = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(7), dt.UTC)
    queue.defer(Task.DIGEST, timestamp=int(next_morning.timestamp()))

    first = start_worker("first")
    assert recorder.held.wait(120), "the first worker never reached the SMTP server"
    second = start_worker("second")
    first.send_signal(signal.SIGKILL)  # mid-batch: K digests sent, one in the server's hands
    assert first.wait(30) == -signal.SIGKILL

    deadline = time.monotonic() + 120
    while _batch(queue_db).status != "succeeded":
        assert second.poll() is None, "the second worker exited"
        assert time.monotonic() < deadline, "the killed worker's job was not run again"
        time.sleep(0.2)

    batch = _batch(queue_db)
    assert batch.starts == 2  # by the killed worker, then by the other
    received = Counter(r for arrival in recorder.arrivals for r in arrival.recipients)
    assert received == Counter(addresses)  # the K before the kill were not sent again
