"""Drive a source into the store: batches, one transaction per batch, checkpoints committed with
the records before them — so a killed import leaves a consistent store that a re-run completes.
Every record gets the code links its abstract and comments hold (paperfeed.code_links)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from paperfeed.code_links import add_code_links
from paperfeed.ingest.base import Checkpoint, IngestReport, Record, Source
from paperfeed.models import SkippedRecord
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]


def run_ingest(
    store: SqlStore,
    source: Source,
    *,
    batch_size: int = 2000,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Consume `source` into `store`; malformed records are reported in the result and skipped."""
    report = IngestReport()
    batch: list[Record] = []

    def flush(checkpoint: Checkpoint | None = None) -> None:
        with store.transaction() as conn:
            if batch:
                papers = (add_code_links(r.paper) for r in batch)
                counts = store.papers.upsert_papers(papers, conn)
                report.submissions += store.community.save_submissions(
                    (r.submission for r in batch if r.submission), conn
                )
                report.new += counts.new
                report.updated += counts.updated
                report.unchanged += counts.unchanged
            if checkpoint is not None:
                store.set_state(checkpoint.key, checkpoint.value, conn)
        if on_progress and batch:
            on_progress(len(batch))
        batch.clear()

    for item in source:
        if isinstance(item, Record):
            report.read += 1
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
        elif isinstance(item, SkippedRecord):
            report.read += 1
            report.skipped.append(item)
            log.warning("skipped %s: %s", item.location, item.reason)
            if on_progress:
                on_progress(1)
        elif isinstance(item, Checkpoint):
            flush(item)
    flush()
    return report
