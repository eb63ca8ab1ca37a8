"""PaperFeed: the one object the CLI, the web app and the tests drive."""

from __future__ import annotations

import logging
from functools import cached_property

from paperfeed.config import Settings, load_settings
from paperfeed.ingest.base import IngestReport, Source
from paperfeed.ingest.runner import ProgressCallback, run_ingest
from paperfeed.store import SqlStore, open_store

log = logging.getLogger(__name__)


class PaperFeed:
    """Wires the store, ingest, search, feed and digest together for one deployment."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()

    @cached_property
    def store(self) -> SqlStore:
        return open_store(self.settings.resolved_database_url)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    def __enter__(self) -> PaperFeed:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- ingest ------------------------------------------------------------------------------

    def ingest(self, source: Source, *, on_progress: ProgressCallback | None = None) -> IngestReport:
        """Import every record of `source`; returns counts and the skipped records."""
        return run_ingest(self.store, source, on_progress=on_progress)

    def saved_position(self, key: str) -> str | None:
        """Where an interrupted import of `key` stopped (see ingest.base.Checkpoint)."""
        return self.store.get_state(key)

    def stats(self) -> dict[str, int]:
        return self.store.stats()
