"""PaperFeed: the one object the CLI, the web app and the tests drive."""

from __future__ import annotations

import datetime as dt
import logging
from functools import cached_property
from typing import TYPE_CHECKING

from paperfeed.config import Settings, load_settings
from paperfeed.ingest.base import IngestReport, Source
from paperfeed.ingest.runner import ProgressCallback, run_ingest
from paperfeed.store import SqlStore, open_store

if TYPE_CHECKING:
    from paperfeed.digest.digests import DigestService
    from paperfeed.models import Paper
    from paperfeed.search.service import SearchResults, SearchService

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

    def ingest(
        self,
        source: Source,
        *,
        on_progress: ProgressCallback | None = None,
        index_keywords: bool = True,
    ) -> IngestReport:
        """Import every record of `source`; returns counts and the skipped records.

        The keyword index catches up at the end unless `index_keywords` is False (then
        `catch_up_keyword_index` does it later); embeddings are computed by `index()`.
        """
        report = run_ingest(self.store, source, on_progress=on_progress)
        if index_keywords:
            self.store.papers.catch_up_keyword_index()
        return report

    def saved_position(self, key: str) -> str | None:
        """Where an interrupted import of `key` stopped (see ingest.base.Checkpoint)."""
        return self.store.get_state(key)

    # -- search ------------------------------------------------------------------------------

    @cached_property
    def search_service(self) -> SearchService:
        from paperfeed.search.service import SearchService

        return SearchService(self.store, self.settings)

    def search(
        self,
        q: str,
        *,
        limit: int = 20,
        offset: int = 0,
        sort: str = "relevance",
        category: str | None = None,
        author: str | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> SearchResults:
        """Hybrid keyword + semantic search (see paperfeed.search.query for the syntax)."""
        return self.search_service.search(
            q,
            limit=limit,
            offset=offset,
            sort=sort,
            category=category,
            author=author,
            date_from=date_from,
            date_to=date_to,
        )

    def similar(self, paper_id: str, limit: int = 10) -> list[Paper]:
        """Papers most like `paper_id` (NotFound when it is unknown)."""
        return self.search_service.similar(paper_id, limit=limit)

    def index(self, *, on_progress: ProgressCallback | None = None, rebuild: bool = False) -> int:
        """Embed new and changed papers (and rebuild the ANN index first if asked)."""
        if rebuild:
            self.search_service.rebuild_index()
        return self.search_service.index(on_progress=on_progress)

    # -- digests -----------------------------------------------------------------------------

    @cached_property
    def digest(self) -> DigestService:
        """Subscriptions and the e-mail digest (see paperfeed.digest.service)."""
        from paperfeed.digest.digests import DigestService

        return DigestService(self)

    def stats(self) -> dict[str, int]:
        return self.store.stats()
