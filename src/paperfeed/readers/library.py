"""Importing a reader's library (BibTeX, RIS, CSL-JSON or one id, DOI or title a line).

The file is read by recommend.library and matched to store papers by recommend.matching.
Matched papers go into the reader's "Imported library" collection; the entries the store lacks
are listed back, and their titles and abstracts are kept as the reader's interests (they feed
the ranking of /for-you); malformed entries are reported with their line and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paperfeed.community.collections import IMPORTED, Collections
from paperfeed.errors import Invalid
from paperfeed.models import Collection, User
from paperfeed.recommend.library import LibraryEntry, LibraryError, parse_library
from paperfeed.recommend.matching import LibraryMatch, match_library
from paperfeed.store import SqlStore

MAX_LIBRARY_BYTES = 10 * 1024 * 1024  # the largest library file accepted (10 MiB)
MAX_ENTRIES = 20_000  # entries read from one file


@dataclass(slots=True)
class LibraryReport:
    format: str
    matched: list[tuple[LibraryEntry, str]] = field(default_factory=list)  # (entry, paper id)
    unmatched: list[LibraryEntry] = field(default_factory=list)
    errors: list[LibraryError] = field(default_factory=list)
    collection: Collection | None = None  # where the matched papers went
    added: int = 0  # papers new to that collection
    interests: int = 0  # unmatched titles newly kept as interests


def read_library(
    store: SqlStore, data: bytes, filename: str | None
) -> tuple[LibraryMatch, LibraryReport]:
    """Parse and match a library file, storing nothing."""
    if len(data) > MAX_LIBRARY_BYTES:
        raise Invalid(f"a library file may hold at most {MAX_LIBRARY_BYTES // 2**20} MiB")
    parsed = parse_library(data, filename)
    if len(parsed.entries) > MAX_ENTRIES:
        raise Invalid(f"a library file may hold at most {MAX_ENTRIES} entries")
    match = match_library(store, parsed.entries)
    report = LibraryReport(parsed.format, match.matched, match.unmatched, parsed.errors)
    return match, report


def import_library(
    store: SqlStore, collections: Collections, user: User, data: bytes, filename: str | None
) -> LibraryReport:
    """Read the file and keep what it says for `user` (see the module docstring)."""
    match, report = read_library(store, data, filename)
    if match.paper_ids:
        report.collection = collections.named(user, IMPORTED)
        report.added = collections.add_papers(report.collection, match.paper_ids)
    report.interests = store.readers.add_interests(
        user.id, [(e.title, e.abstract or "") for e in match.unmatched if e.title]
    )
    return report
