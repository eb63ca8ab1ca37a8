"""Recommendations for a library file given once (``paperfeed recommend``, ``POST
/api/recommend``): read it, find its papers, rank the window for it; nothing is stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperfeed.errors import Invalid
from paperfeed.recommend.library import LibraryEntry, LibraryFile, parse_library
from paperfeed.recommend.matching import LibraryMatch, match_library
from paperfeed.recommend.ranker import Recommendation, Recommender
from paperfeed.recommend.signals import InterestText, PositivePaper, ReaderSignals
from paperfeed.store import SqlStore

MAX_ENTRIES = 5000  # library entries used to rank (a bigger file is read, its first entries used)
MAX_TEXTS = 200  # entries the store lacks whose title and abstract are embedded
MAX_LIMIT = 200


@dataclass(slots=True)
class LibraryRecommendations:
    library: LibraryFile  # as read: entries and malformed ones
    match: LibraryMatch  # which entries are store papers
    recommendations: list[Recommendation]


def library_signals(match: LibraryMatch, origin: str = "in your library") -> ReaderSignals:
    """A library's matched papers as liked papers, and the title and abstract of the entries
    the store lacks as free-text interests."""
    return ReaderSignals(
        positives=tuple(PositivePaper(paper_id, origin) for paper_id in match.paper_ids),
        texts=tuple(
            InterestText(entry.title, entry.text, origin)
            for entry in _with_text(match.unmatched)[:MAX_TEXTS]
            if entry.title
        ),
    )


def recommend_for_library(
    store: SqlStore,
    recommender: Recommender,
    data: bytes,
    filename: str | None = None,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 20,
) -> LibraryRecommendations:
    """The window's best papers for a library file (see `Recommender.rank` for the window)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"the limit must be between 1 and {MAX_LIMIT}")
    if since and until and since > until:
        raise Invalid("the window's first day is after its last")
    library = parse_library(data, filename)
    match = match_library(store, library.entries[:MAX_ENTRIES])
    found = recommender.rank(library_signals(match), since, until, limit)
    return LibraryRecommendations(library, match, found)


def _with_text(entries: list[LibraryEntry]) -> list[LibraryEntry]:
    """Entries with an abstract first: they say most about a reader's interests."""
    return sorted(entries, key=lambda e: not e.abstract)
