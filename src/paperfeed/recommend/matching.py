"""Which store papers a library's entries are: by arXiv id, then DOI, then title.

A title matches when it equals a stored title case-insensitively (the title index), else when
it equals, letters and digits only, one of the few best keyword matches of its words (LaTeX,
punctuation and spacing differences: "BERT: Pre-training of..." vs "{BERT}: pre-training of").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from paperfeed.query import parse_query
from paperfeed.recommend.library import LibraryEntry
from paperfeed.store import SqlStore

FUZZY_TITLE_LIMIT = 1000  # titles looked up by keyword search per call (each is one search)
FUZZY_CANDIDATES = 5  # keyword matches compared with each title


@dataclass(slots=True)
class LibraryMatch:
    """`matched`: (entry, store paper id) in file order; `unmatched`: the other entries."""

    matched: list[tuple[LibraryEntry, str]] = field(default_factory=list)
    unmatched: list[LibraryEntry] = field(default_factory=list)

    @property
    def paper_ids(self) -> list[str]:
        """The matched papers' ids, each once, in file order."""
        return list(dict.fromkeys(paper_id for _, paper_id in self.matched))


def match_library(store: SqlStore, entries: Sequence[LibraryEntry]) -> LibraryMatch:
    """Find each entry's paper in `store` (hidden papers too: they are still the reader's)."""
    found: dict[int, str] = {}  # entry position -> paper id
    by_id = store.papers.paper_keys([e.arxiv_id for e in entries if e.arxiv_id])
    for i, entry in enumerate(entries):
        if entry.arxiv_id and entry.arxiv_id in by_id:
            found[i] = entry.arxiv_id
    dois = [e.doi for i, e in enumerate(entries) if i not in found and e.doi]
    by_doi = store.papers.ids_by_doi(dois) if dois else {}
    for i, entry in enumerate(entries):
        if i not in found and entry.doi and entry.doi.lower() in by_doi:
            found[i] = by_doi[entry.doi.lower()]
    titled = [i for i, e in enumerate(entries) if i not in found and e.title]
    by_title = store.papers.ids_by_title([entries[i].title or "" for i in titled])
    fuzzy = 0
    for i in titled:
        title = entries[i].title or ""
        paper_id = by_title.get(title.lower())
        if paper_id is None and fuzzy < FUZZY_TITLE_LIMIT:
            fuzzy += 1
            paper_id = _match_title_by_words(store, title)
        if paper_id is not None:
            found[i] = paper_id
    match = LibraryMatch()
    for i, entry in enumerate(entries):
        if i in found:
            match.matched.append((entry, found[i]))
        else:
            match.unmatched.append(entry)
    return match


def title_key(title: str) -> str:
    """Letters and digits only, accents dropped, lower case: the form titles are compared in."""
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def _match_title_by_words(store: SqlStore, title: str) -> str | None:
    key = title_key(title)
    words = re.sub(r"[^\w]+", " ", title).strip()
    if len(key) < 8 or not words:
        return None
    query = parse_query(words, limit=FUZZY_CANDIDATES)
    hits = store.papers.keyword_search(query, FUZZY_CANDIDATES)
    papers = store.papers.papers_by_key([k for k, _ in hits])
    for hit_key, _ in hits:
        paper = papers.get(hit_key)
        if paper is not None and title_key(paper.title) == key:
            return paper.id
    return None
