"""Two `paperfeed worker` processes share one queue: each job runs exactly once, each periodic
tick is one job, and each subscriber gets one digest although the batches run side by side."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from paperfeed.core import PaperFeed
from paperfeed.store.job_queue import Task
from tests.jobs.conftest import StartWorker, subscribe
from tests.support.digest import Recorder
from tests.support.factories import DAY

pytestmark = pytest.mark.backends("postgres")

SUBSCRIBERS = 24
BATCH = 5  # subscribers per digest job: 5 batches
TICKS = 4  # periodic ticks (every second) to see before stopping
STARTED = re.compile(r"Starting job [\w.]+\[(\d+)\]")


def _jobs(db: sa.Engine) -> list[sa.Row]:
    with db.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT j.id, j.task_name, j.status::text, j.args, "
                "(SELECT count(*) FROM procrastinate_events e "
                " WHERE e.job_id = j.id AND e.type = 'started') AS starts "
                "FROM procrastinate_jobs j ORDER BY j.id"
            )
        ).all()


def _wait_for(done: object, processes: list[subprocess.Popen[bytes]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done():  # type: ignore[operator]
        assert all(p.poll() is None for p in processes), "a worker exited"
        assert time.monotonic() < deadline, "the workers did not finish in time"
        time.sleep(0.2)


def _started_by(log: Path) -> set[int]:
    return {int(m) for m in STARTED.findall(log.read_text())}


def test_two_workers_run_each_job_once_and_send_each_digest_once(
    queue_feed: PaperFeed,
    smtp: tuple[Recorder, int],
    start_worker: StartWorker,
    queue_db: sa.Engine,
    tmp_path: Path,
) -> None:
    recorder, _ = smtp
    addresses = subscribe(queue_feed, SUBSCRIBERS)
    queue = queue_feed.job_queue
    assert queue is not None
    next_morning = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(7), dt.UTC)
    queue.defer(Task.DIGEST, timestamp=int(next_morning.timestamp()))  # as the 07:00 tick would

    env = {"PAPERFEED_DIGEST_BATCH_SIZE": str(BATCH), "PAPERFEED_SUBMIT_RETRY_DELAY": "1"}
    workers = [start_worker("one", **env), start_worker("two", **env)]

    def done() -> bool:
        jobs = _jobs(queue_db)
        batches = [j for j in jobs if j.task_name == Task.DIGEST_BATCH]
        ticks = [j for j in jobs if j.task_name == Task.RETRY_SUBMISSIONS]
        finished = sum(j.status == "succeeded" for j in ticks)
        return (
            len(batches) >= 5
            and all(j.status == "succeeded" for j in batches)
            and (finished >= TICKS)
        )

    _wait_for(done, workers, 240)
    for process in workers:
        process.kill()  # what they did is in the database and their logs
        process.wait(30)

    received = Counter(r for arrival in recorder.arrivals for r in arrival.recipients)
    assert received == Counter(addresses)  # every subscriber, once

    jobs = _jobs(queue_db)
    assert [j.task_name for j in jobs].count(Task.DIGEST_BATCH) == 5
    ran = [j for j in jobs if j.starts]
    assert ran and all(j.starts == 1 for j in ran)  # no job ran twice
    assert {j.status for j in ran} <= {"succeeded", "doing"}  # "doing": in hand at the kill
    ticks = Counter(j.args["timestamp"] for j in jobs if j.task_name == Task.RETRY_SUBMISSIONS)
    assert len(ticks) >= TICKS and set(ticks.values()) == {1}  # one job per tick, not per worker

    by_one, by_two = _started_by(tmp_path / "one.log"), _started_by(tmp_path / "two.log")
    assert by_one and by_two  # both took jobs...
    assert not by_one & by_two  # ...never the same one
    assert by_one | by_two == {j.id for j in ran}
