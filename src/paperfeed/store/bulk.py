"""What a backend's bulk load of papers offers the ingest runner (SQLite: sqlite_bulk.py)."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from paperfeed.store.paper_rows import EncodedPaper
from paperfeed.store.papers import UpsertCounts


class BulkLoad(Protocol):
    """Papers encoded elsewhere (PaperRowCodec for `dialect`) written in batches: `write` adds
    a batch to the open transaction, `commit` saves a resume position with every batch before
    it. Leaving the ``with`` block commits, or rolls back on an error."""

    dialect: str

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def write(self, batch: list[EncodedPaper]) -> UpsertCounts: ...

    def commit(self, key: str, value: str | None) -> None: ...
