"""The bulk path of an import: a ParallelSource parses and encodes its records in second
processes (`encode_batches` runs there; `parsed_in_processes` reads them in order), the store's
BulkLoad writes them (`runner.run_ingest`).

Batches are cut where `runner.run_ingest` cuts its own, so the counts and the stored rows are
those of the usual path; a transaction spans a checkpoint's batches (fewer commits) and the
checkpoint is saved in it, so a killed import resumes after the last checkpoint as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterator

from paperfeed.code_links import add_code_links
from paperfeed.ingest.base import EncodedBatch, ParallelSource, Record, Source
from paperfeed.ingest.second_process import in_second_process
from paperfeed.merge import with_sources
from paperfeed.models import SkippedRecord
from paperfeed.store import rows
from paperfeed.store.paper_rows import PaperRowCodec


def encode_batches(source: Source, dialect: str, batch_size: int) -> Iterator[EncodedBatch]:
    """`source`'s records with their code links, encoded for `dialect`, in the runner's batches."""
    codec = PaperRowCodec.for_dialect(dialect)
    batch, now = EncodedBatch([], []), rows.utcnow()
    for item in source:
        if isinstance(item, Record):
            if item.submission is not None:
                raise ValueError("records with submissions are not bulk-loaded")
            batch.papers.append(codec.encode(with_sources(add_code_links(item.paper)), now))
            if len(batch.papers) < batch_size:
                continue
        elif isinstance(item, SkippedRecord):
            batch.skipped.append(item)
            continue
        else:
            batch.checkpoint = item
        yield batch
        batch, now = EncodedBatch([], []), rows.utcnow()
    if batch.papers or batch.skipped:
        yield batch


def parsed_in_processes(
    source: ParallelSource, dialect: str, batch_size: int, processes: int
) -> Generator[EncodedBatch, None, None]:
    """`source`'s encoded batches in order, parsed by `processes` second processes that take
    turns: each parses every n-th run of batches between two checkpoints."""
    streams = [
        in_second_process(source.encoded_batches, dialect, batch_size, (part, processes))
        for part in range(processes)
    ]
    try:
        for stream in itertools.cycle(streams):
            for batch in stream:
                yield batch
                if batch.checkpoint is not None:
                    break
            else:
                return
            if batch.checkpoint.value is None:
                return
    finally:
        for stream in streams:
            stream.close()
