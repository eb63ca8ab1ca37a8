"""The arXiv bulk metadata snapshot (Kaggle ``arxiv-metadata-oai-snapshot.json``), JSON lines."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import orjson

from paperfeed.arxiv_ids import arxiv_links, parse_arxiv_id
from paperfeed.errors import InvalidRecord
from paperfeed.ingest.base import Checkpoint, EncodedBatch, ParallelSource, Parsed, Record, Source
from paperfeed.ingest.bulk import encode_batches
from paperfeed.ingest.files import GZIP_MAGIC, open_binary
from paperfeed.ingest.latex import has_latex, latex_to_text
from paperfeed.ingest.normalize import collapse_space, parse_datetime, split_authors
from paperfeed.models import Paper, SkippedRecord

log = logging.getLogger(__name__)

SOURCE = "snapshot"
BYTES_PER_LINE = 1500  # about, in the snapshot (a gzip file: a third of that)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def snapshot_key(path: str | os.PathLike[str]) -> str:
    """The checkpoint key of a snapshot file: its absolute path and size (a new dump restarts)."""
    resolved = Path(path).resolve()
    return f"snapshot:{resolved}:{resolved.stat().st_size}"


def read_snapshot(
    path: str | os.PathLike[str],
    *,
    start_line: int = 0,
    checkpoint_every: int = 10000,
    part: tuple[int, int] = (0, 1),
) -> Source:
    """Records of a snapshot file (plain or gzip), resuming after `start_line` lines.

    Every `checkpoint_every` lines it yields ``Checkpoint(snapshot_key(path), "<lines done>")``
    and at the end ``Checkpoint(key, None)``. Malformed lines become SkippedRecords.
    ``part=(i, n)``: only the records and checkpoints of every n-th block of `checkpoint_every`
    lines, from block i (parsers in n processes share a file so); the other lines are not parsed.
    """
    key = snapshot_key(path)
    lineno = start_line
    mine, parts = part
    with open_binary(path) as stream:
        for line in itertools.islice(stream, start_line, None):
            if parts > 1 and (lineno // checkpoint_every) % parts != mine:
                lineno += 1
                continue
            lineno += 1
            if not line.isspace():
                try:
                    yield Record(parse_snapshot_line(line))
                except InvalidRecord as error:
                    yield SkippedRecord(location=f"{path}:{lineno}", reason=str(error))
            if lineno % checkpoint_every == 0:
                yield Checkpoint(key, str(lineno))
    log.info("snapshot %s: %d lines", path, lineno)
    yield Checkpoint(key, None)


class SnapshotFile(ParallelSource):
    """The records of a snapshot file after `start_line` lines (`read_snapshot`), parsed in a
    second process when the store bulk-loads (see ingest/bulk.py)."""

    def __init__(
        self, path: str | os.PathLike[str], *, start_line: int = 0, checkpoint_every: int = 10000
    ) -> None:
        self.path = Path(path)
        self.start_line = start_line
        self.checkpoint_every = checkpoint_every
        self._records: Source | None = None

    def __next__(self) -> Parsed:
        if self._records is None:
            self._records = self._read()
        return next(self._records)

    def expected_records(self) -> int:
        with self.path.open("rb") as stream:
            compressed = stream.read(2) == GZIP_MAGIC
        lines = self.path.stat().st_size * (3 if compressed else 1) // BYTES_PER_LINE
        return max(lines - self.start_line, 0)

    def encoded_batches(
        self, dialect: str, batch_size: int, part: tuple[int, int] = (0, 1)
    ) -> Iterator[EncodedBatch]:
        return encode_batches(self._read(part), dialect, batch_size)

    def _read(self, part: tuple[int, int] = (0, 1)) -> Source:
        return read_snapshot(
            self.path, start_line=self.start_line, checkpoint_every=self.checkpoint_every, part=part
        )


def parse_snapshot_line(line: bytes | str) -> Paper:
    """One snapshot line as a Paper; raises InvalidRecord with the reason when it is malformed."""
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise InvalidRecord(f"invalid JSON: {error}") from None
    if not isinstance(row, dict):
        raise InvalidRecord("not a JSON object")
    raw_id = row.get("id")
    if not raw_id or not isinstance(raw_id, str):
        raise InvalidRecord("missing id")
    arxiv_id, _ = parse_arxiv_id(raw_id)
    title = _text(row, "title")
    if not title:
        raise InvalidRecord("missing title")
    abstract = _text(row, "abstract")
    if not abstract:
        raise InvalidRecord("missing abstract")

    version, published, updated = _versions(row.get("versions"))
    if updated is None and row.get("update_date"):
        updated = _date(row["update_date"])
    listed = row.get("categories") or ""
    if not isinstance(listed, str):
        raise InvalidRecord("categories is not text")
    categories = listed.split()
    abs_url, pdf_url = arxiv_links(arxiv_id, version)
    return Paper(
        id=arxiv_id,
        title=title,
        abstract=abstract,
        version=version,
        authors=_authors(row),
        primary_category=categories[0] if categories else None,
        categories=categories,
        published=published,
        updated=updated,
        doi=_text(row, "doi") or None,
        journal_ref=_text(row, "journal-ref") or None,
        comments=_text(row, "comments") or None,
        license=_text(row, "license") or None,
        abs_url=abs_url,
        pdf_url=pdf_url,
        source=SOURCE,
    )


def _text(row: dict, key: str) -> str:
    """`collapse_space` of a string field (`clean_text`, faster)."""
    value = row.get(key)
    if not value:
        return ""
    if not isinstance(value, str):
        raise InvalidRecord(f"{key} is not text")
    return collapse_space(value)


def _versions(versions: object) -> tuple[int | None, dt.datetime | None, dt.datetime | None]:
    """(highest version, v1 date, latest version date) from ``[{version: "v1", created}, ...]``."""
    if not versions:
        return None, None, None
    if not isinstance(versions, list):
        raise InvalidRecord("versions is not a list")
    try:
        numbered = [(int(v["version"].lstrip("v")), v["created"]) for v in versions]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidRecord(f"bad versions {versions!r}"[:200]) from None
    if len(numbered) > 1:
        numbered.sort()
        published = _date(numbered[0][1])
        return numbered[-1][0], published, _date(numbered[-1][1])
    published = _date(numbered[0][1])
    return numbered[0][0], published, published


def _date(text: str) -> dt.datetime | None:
    """Fast path for arXiv's fixed ``Mon, 2 Apr 2007 19:18:42 GMT`` (and ``2008-11-26``)."""
    try:
        if len(text) == 10:
            return dt.datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), tzinfo=dt.UTC)
        _, day, month, year, clock, zone = text.split()
        if zone == "GMT":
            hour, minute, second = clock.split(":")
            return dt.datetime(
                int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
                tzinfo=dt.UTC,
            )  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return parse_datetime(text)


def _authors(row: dict) -> list[str]:
    parsed = row.get("authors_parsed")
    if parsed and isinstance(parsed, list):
        names = []
        for parts in parsed:
            try:
                last, first, suffix = parts[0], parts[1], parts[2]
                name = f"{first} {last} {suffix}" if suffix else f"{first} {last}"
            except (TypeError, IndexError, KeyError):
                raise InvalidRecord(f"bad authors_parsed entry {parts!r}") from None
            if "  " in name or "\n" in name or not first or has_latex(name):
                name = latex_to_text(name)
            if name:
                names.append(name)
        return names
    authors = row.get("authors")
    if not authors or not isinstance(authors, str):
        return []
    return split_authors(latex_to_text(authors))
