"""An author's page: their papers, whichever way the records spell the name.

Spellings are compared as the ranker compares them (recommend.authors: case, accents and
punctuation aside). On top of that, an abbreviated spelling ("J. Smith") is merged with a full
one ("John Smith") only when it is unambiguous: when the store's papers show one full first name
with that initial and family name. With "John Smith" and "Jane Smith" both there, "J. Smith"
stays apart, and its page lists both as the people it may be.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from paperfeed.errors import NotFound
from paperfeed.models import Paper
from paperfeed.query import MAX_LIMIT, parse_query
from paperfeed.recommend.authors import name_keys, normalize_name
from paperfeed.search.engine import SearchEngine

MAX_NAME = 200
CANDIDATE_PAGES = 10  # pages of MAX_LIMIT papers with the family name read per author page


@dataclass(slots=True)
class AuthorPage:
    name: str  # the spelling shown: the most frequent full one
    spellings: list[str]  # every spelling merged into this author, most frequent first
    papers: list[Paper]  # newest first
    others: list[str] = field(default_factory=list)  # full names an initial may stand for


def author_page(engine: SearchEngine, name: str, *, limit: int = 100) -> AuthorPage:
    """The papers of `name` (and its unambiguous spellings), newest first; NotFound when the
    store has none."""
    name = " ".join((name or "").split())[:MAX_NAME]
    full, initial, abbreviated = name_keys(name)
    if not full:
        raise NotFound("no author name given")
    candidates = _papers_with_family_name(engine, full.split()[-1])
    spellings: Counter[str] = Counter()
    full_names: dict[str, Counter[str]] = defaultdict(Counter)  # full key -> spellings
    for paper in candidates:
        for author in paper.authors:
            key, init, short = name_keys(author)
            if init == initial:
                spellings[author] += 1
                if not short:
                    full_names[key][author] += 1
    if abbreviated:
        wanted = {full} | (set(full_names) if len(full_names) == 1 else set())
    else:
        wanted = {full} | ({initial} if set(full_names) <= {full} else set())
    merged = [s for s, _ in spellings.most_common() if _key(s) in wanted]
    papers = [p for p in candidates if any(_key(a) in wanted for a in p.authors)]
    if not papers:
        raise NotFound(f"no papers by {name!r} here")
    shown = next((s for s in merged if not name_keys(s)[2]), merged[0] if merged else name)
    others = [c.most_common(1)[0][0] for k, c in full_names.items() if k not in wanted]
    return AuthorPage(shown, merged, papers[:limit], sorted(others) if abbreviated else [])


def _key(spelling: str) -> str:
    """The key a spelling is merged by: its full key (an abbreviated one's is its initial key)."""
    return name_keys(spelling)[0]


def _papers_with_family_name(engine: SearchEngine, family: str) -> list[Paper]:
    """Papers with an author of that family name, newest first (the author filter of search)."""
    papers: list[Paper] = []
    for page in range(CANDIDATE_PAGES):
        query = parse_query(
            None, author=family, sort="date", limit=MAX_LIMIT, offset=page * MAX_LIMIT
        )
        hits = engine.search(query, mode="keyword").hits
        papers.extend(
            h.paper
            for h in hits
            if any(normalize_name(a).split()[-1:] == [family] for a in h.paper.authors)
        )
        if len(hits) < MAX_LIMIT:
            break
    return papers
