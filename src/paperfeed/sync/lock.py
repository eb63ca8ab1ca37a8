"""One sync at a time across processes: the CLI, `serve`'s scheduler, a job queue's workers.

PostgreSQL: the store's advisory lock (``pg_try_advisory_lock``); SQLite: an OS file lock in the
data directory. Either is released when its holder dies, so a killed sync never blocks the next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from paperfeed.errors import Conflict
from paperfeed.private_files import file_lock
from paperfeed.store import SqlStore

LOCK_NAME = "paperfeed.sync"
POLL_SECONDS = 0.25


class SyncInProgress(Conflict):
    """Another process (or thread) is syncing; this one gave up waiting for it."""


@contextmanager
def sync_lock(
    store: SqlStore,
    data_dir: Path,
    *,
    wait: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the sync lock for the block, waiting up to `wait` seconds for it; SyncInProgress
    when it stays taken."""
    deadline = time.monotonic() + wait
    while True:
        with _try_lock(store, data_dir) as acquired:
            if acquired:
                yield
                return
        if time.monotonic() >= deadline:
            raise SyncInProgress(
                "another sync is in progress (paperfeed status shows it); "
                "this one stopped without fetching anything"
            )
        sleep(POLL_SECONDS)


def _try_lock(store: SqlStore, data_dir: Path) -> AbstractContextManager[bool]:
    advisory: Callable[[str], AbstractContextManager[bool]] | None = getattr(
        store, "advisory_lock", None
    )
    if advisory is not None:
        return advisory(LOCK_NAME)
    return file_lock(Path(data_dir) / "sync.lock")
