"""Files and directories only the service's own user may read: the data directory holds password
hashes, subscribers' addresses, the secret key and unsent e-mails.

Modes are set explicitly (0600 files, 0700 directories) after creation, so they do not depend
on the process's umask; an existing data directory that others can read is tightened on open.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_dir(path: Path) -> Path:
    """`path` as a directory, creating it and any missing parents with DIR_MODE."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made by a concurrent process: its mode is its maker's business
            continue
        os.chmod(folder, DIR_MODE)
    return path


def open_file(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """A descriptor of `path` opened with `flags` (os.O_*), the file set to FILE_MODE."""
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` (replacing its contents), the file set to FILE_MODE."""
    with os.fdopen(open_file(path), "wb") as handle:
        handle.write(data)


def create_file(path: Path) -> None:
    """Create `path` empty with FILE_MODE if it does not exist; tighten it if it does."""
    try:
        os.close(open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        tighten(path, FILE_MODE)


def tighten(path: Path, mode: int) -> None:
    """Remove the permission bits of `path` beyond `mode`, logging the change. Only for what this
    user owns, and never for a shared sticky directory such as /tmp."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(info.st_mode)
    if current & ~mode == 0 or info.st_uid != os.geteuid() or current & stat.S_ISVTX:
        return
    try:
        os.chmod(path, current & mode)
    except OSError as error:
        log.warning("could not make %s private (mode %o): %s", path, current, error)
        return
    log.warning("made %s private: mode %o -> %o", path, current, current & mode)


@contextmanager
def file_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive, non-blocking lock on `path` (created with FILE_MODE); yields False when
    another holds it. The OS releases it if the process dies, so a crashed run never blocks the
    next."""
    make_dir(path.parent)
    fd = open_file(path, os.O_RDWR | os.O_CREAT)
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
