"""Drive a source into the store: batches, one transaction per batch, checkpoints committed with
the records before them — so a killed import leaves a consistent store that a re-run completes.
Every record gets the code links its abstract and comments hold (paperfeed.code_links).

A ParallelSource (the arXiv snapshot) is parsed in a second process and bulk-loaded where the
store has a bulk load (SQLite): see ingest/bulk.py."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from contextlib import closing

from paperfeed.code_links import add_code_links
from paperfeed.ingest.base import (
    Checkpoint,
    EncodedBatch,
    IngestReport,
    ParallelSource,
    Record,
    Source,
)
from paperfeed.ingest.bulk import parsed_in_processes
from paperfeed.models import SkippedRecord
from paperfeed.store import SqlStore, UpsertCounts
from paperfeed.store.bulk import BulkLoad

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]
PARSING_PROCESSES = 2  # parsers of a ParallelSource: with the writer, the import takes 2 cores


def run_ingest(
    store: SqlStore,
    source: Source,
    *,
    batch_size: int = 2000,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Consume `source` into `store`; malformed records are reported in the result and skipped."""
    if isinstance(source, ParallelSource):
        load = store.bulk_load(expected_papers=source.expected_records())
        if load is not None:
            batches = parsed_in_processes(source, load.dialect, batch_size, PARSING_PROCESSES)
            return _run_bulk(load, batches, on_progress)
    report = IngestReport()
    batch: list[Record] = []

    def flush(checkpoint: Checkpoint | None = None) -> None:
        with store.transaction() as conn:
            if batch:
                papers = (add_code_links(r.paper) for r in batch)
                _add_counts(report, store.papers.upsert_papers(papers, conn))
                report.submissions += store.community.save_submissions(
                    (r.submission for r in batch if r.submission), conn
                )
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
            _skip(report, item, on_progress)
        elif isinstance(item, Checkpoint):
            flush(item)
    flush()
    return report


def _run_bulk(
    load: BulkLoad,
    batches: Generator[EncodedBatch, None, None],
    on_progress: ProgressCallback | None,
) -> IngestReport:
    report = IngestReport()
    with load, closing(batches):  # on an error, the parsing processes stop before the load ends
        for batch in batches:
            for skipped in batch.skipped:
                _skip(report, skipped, on_progress)
            if batch.papers:
                report.read += len(batch.papers)
                _add_counts(report, load.write(batch.papers))
                if on_progress:
                    on_progress(len(batch.papers))
            if batch.checkpoint is not None:
                load.commit(batch.checkpoint.key, batch.checkpoint.value)
    return report


def _skip(
    report: IngestReport, skipped: SkippedRecord, on_progress: ProgressCallback | None
) -> None:
    report.read += 1
    report.skipped.append(skipped)
    log.warning("skipped %s: %s", skipped.location, skipped.reason)
    if on_progress:
        on_progress(1)


def _add_counts(report: IngestReport, counts: UpsertCounts) -> None:
    report.new += counts.new
    report.updated += counts.updated
    report.unchanged += counts.unchanged
