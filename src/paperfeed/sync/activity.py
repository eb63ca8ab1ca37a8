"""A background sync embeds at a fraction of its speed while the site on this machine is serving
pages, and at full speed when it is not.

Kept off the web server's CPU and at the lowest priority, the embedding still competes with
the pages served on the other CPU (the CPUs share caches and memory, and the server's threads
run on either). So `serve` stamps the time of every request into a small file beside the store
(`mark`: a store into a memory map, no system call), and the sync, between two batches of
embedding, rests (`rest_after`) while a request came in the last QUIET_SECONDS: a batch that
took t seconds of CPU is followed by t * (1 / BUSY_SHARE - 1) seconds of rest (CPU seconds: on
a loaded machine the batch's wall time is mostly waiting, which needs no rest after it). A
site that nobody reads gets its papers embedded as fast as before.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from paperfeed import private_files

FILE_NAME = "site-activity"
QUIET_SECONDS = 2.0  # no request for this long: the site is quiet
BUSY_SHARE = 0.5  # of the time the sync embeds while the site is busy
_STAMP = struct.Struct("d")  # time.monotonic() of the last request (one clock per machine)

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class SiteActivity:
    """The time of the site's last request, shared by the web server and a sync child through
    ``<data_dir>/site-activity``."""

    def __init__(self, data_dir: Path) -> None:
        path = private_files.make_dir(Path(data_dir)) / FILE_NAME
        if not path.exists() or path.stat().st_size != _STAMP.size:
            private_files.write_bytes(path, _STAMP.pack(float("-inf")))
        fd = os.open(path, os.O_RDWR)
        try:
            self._map = mmap.mmap(fd, _STAMP.size)
        finally:
            os.close(fd)

    def mark(self) -> None:
        """A request is being answered (the web server, per request)."""
        _STAMP.pack_into(self._map, 0, time.monotonic())

    def busy(self) -> bool:
        """Whether the site answered a request in the last QUIET_SECONDS."""
        (last,) = _STAMP.unpack_from(self._map, 0)
        return bool(time.monotonic() - last < QUIET_SECONDS)

    def rest_after(self, seconds: float) -> None:
        """After a batch of work that took `seconds` of CPU: rest so that it has BUSY_SHARE of
        the time while the site is busy (no rest when it is quiet)."""
        if self.busy():
            time.sleep(seconds * (1 / BUSY_SHARE - 1))

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """`app` (ASGI) marking every HTTP request it is given."""

        async def marked(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                self.mark()
            await app(scope, receive, send)

        return marked

    def close(self) -> None:
        self._map.close()
