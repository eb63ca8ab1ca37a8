"""Copying a whole deployment from one store to another (`paperfeed migrate --to`)."""

from __future__ import annotations

from paperfeed.errors import Conflict, NotFound
from paperfeed.ingest.runner import ProgressCallback
from paperfeed.store import copy as store_copy
from paperfeed.store import open_store, store_exists


def copy_progress(source_url: str, target_url: str) -> tuple[int, int]:
    """(rows to copy in all, rows an earlier run already copied) from one store to another;
    NotFound when there is no store at `source_url` (opening it would make an empty one)."""
    if not store_exists(source_url):
        raise NotFound(f"no store to copy at {source_url}")
    source, target = open_store(source_url), open_store(target_url)
    try:
        tables = store_copy.copied_tables(source, target)
        done = sum(store_copy.count_rows(target, tables).values())
        return sum(store_copy.count_rows(source, tables).values()), done
    finally:
        source.close()
        target.close()


def copy_database(
    source_url: str,
    target_url: str,
    *,
    batch_size: int = 2000,
    on_progress: ProgressCallback | None = None,
) -> store_copy.CopyReport:
    """Copy every paper, account, vote, digest, embedding and ingest position into another store,
    keeping keys; an interrupted copy continues where it stopped (Conflict when the target holds
    rows no copy wrote)."""
    source, target = open_store(source_url), open_store(target_url)
    try:
        return store_copy.copy_store(source, target, batch_size=batch_size, on_progress=on_progress)
    except store_copy.CopyError as error:
        raise Conflict(str(error)) from error
    finally:
        source.close()
        target.close()
