"""One digest sender at a time across processes and web workers.

SQLite deployments share a data directory, so an OS file lock there (fcntl) is enough. A store
may instead provide ``advisory_lock(name, shared=False)`` (a context manager yielding whether it
got the lock; PostgreSQL: ``pg_try_advisory_lock[_shared]``), which is used when present.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from paperfeed.private_files import file_lock

LOCK_NAME = "paperfeed.digest"


@contextmanager
def sender_lock(store: Any, data_dir: Path, batch: str | None = None) -> Iterator[bool]:
    """The right to send (yields False when another sender has it). A whole run holds it alone.
    A `batch` (one date's digests to a range of subscribers, a job of the job queue) shares it
    with the batches of other ranges and holds its own name alone, so batches run side by side
    but never two of one batch, nor any batch with a whole run. Without advisory locks (SQLite)
    a batch holds it alone."""
    advisory = getattr(store, "advisory_lock", None)
    if advisory is None:
        with file_lock(Path(data_dir) / "digest.lock") as acquired:
            yield acquired
    elif batch is None:
        with advisory(LOCK_NAME) as acquired:
            yield acquired
    else:
        with advisory(LOCK_NAME, shared=True) as shared:
            if not shared:
                yield False
                return
            with advisory(f"{LOCK_NAME}.{batch}") as acquired:
                yield acquired
