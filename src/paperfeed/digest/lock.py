"""One digest sender at a time across processes and web workers.

SQLite deployments share a data directory, so an OS file lock there (fcntl) is enough. A store
may instead provide ``advisory_lock(name)`` (a context manager yielding whether it got the lock;
PostgreSQL: ``pg_try_advisory_lock``), which is used when present.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from paperfeed import private_files

LOCK_NAME = "paperfeed.digest"


@contextmanager
def file_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive, non-blocking lock on `path`; yields False when another holds it.
    The OS releases it if the process dies, so a crashed run never blocks the next."""
    private_files.make_dir(path.parent)
    fd = private_files.open_file(path, os.O_RDWR | os.O_CREAT)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def sender_lock(store: Any, data_dir: Path) -> Iterator[bool]:
    advisory = getattr(store, "advisory_lock", None)
    if advisory is not None:
        with advisory(LOCK_NAME) as acquired:
            yield acquired
        return
    with file_lock(Path(data_dir) / "digest.lock") as acquired:
        yield acquired
