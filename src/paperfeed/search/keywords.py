"""Key phrases of each paper, computed offline from its title and abstract (the role of Hugging
Face's ``ai_keywords``, which are shown instead where it gave some).

YAKE (statistical: word position, case, frequency and context spread; no model, no corpus) via
``yake-rust``: ~750 abstracts/s against ~130/s for the pure-Python ``yake`` (bench/keywords.py),
still too slow for bulk imports (~40k papers/s), so the background indexer computes them
(`KeywordTagger`, run by search.indexing before embedding). YAKE's raw top phrases overlap
("Object Detection", "Multi-modal Object Detection", "Rethinking Multi-modal Object") and
include bare common words ("model", "Step"); `KeywordExtractor` keeps a phrase only when it
shares less than half its words with a better one, drops single words but for names and
acronyms (VLMs, DecAlign), phrases straddling a stop word ("Alignment for Decoupled") and those
that begin or end with the verbs and fillers of abstracts ("existing ...", "... achieves").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import yake_rust

from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

KEYWORDS = 8  # phrases kept per paper
CANDIDATES = 40  # YAKE phrases considered for them
MAX_WORDS = 3
BATCH = 2000  # papers read and written at a time (each write re-renders cached pages)
# Words that make a poor start or end of a key phrase: verbs and fillers of abstracts.
EDGE_WORDS = frozenset(
    """achieve achieves achieving address addresses aim aims allow allows apply applied based
    demonstrate demonstrates enable enables existing experiments extensive finally however
    identify improve improved improves including introduce introduces introducing leverage
    leverages leveraging major method methods novel paper perform performs present presents
    previous proposed propose proposes provide provides recent results show shows significantly
    state-of-the-art superior typically using various work""".split()  # noqa: SIM905
)
# A phrase with one of these inside mostly straddles two ("Alignment for Decoupled").
INNER_STOP_WORDS = frozenset(
    """a an and as at by for from in into of on the through to via with""".split()  # noqa: SIM905
)
_WORD = re.compile(r"\w+(?:-\w+)*")
_NAME_LIKE = re.compile(r".[A-Z]|\d|-")  # VLMs, HKVE, DecAlign, GPT-4o: a name, not a word


def _words(phrase: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(phrase)]


class KeywordExtractor:
    """Key phrases of one text at a time (one YAKE instance: it is not shared across threads)."""

    def __init__(self, count: int = KEYWORDS) -> None:
        self.count = count
        self._yake = yake_rust.Yake(language="en", ngrams=MAX_WORDS, deduplication_threshold=0.9)

    def extract(self, title: str, abstract: str) -> list[str]:
        """The best `count` phrases of the paper, best first."""
        text = f"{title}.\n{abstract}" if abstract else title
        kept: list[str] = []
        kept_words: list[set[str]] = []
        for phrase, _score in self._yake.get_n_best(text, n=CANDIDATES):
            words = _words(phrase)
            if not words or words[0] in EDGE_WORDS or words[-1] in EDGE_WORDS:
                continue
            if INNER_STOP_WORDS.intersection(words):
                continue
            if len(words) == 1 and not _NAME_LIKE.search(phrase):
                continue
            unique = set(words)
            if any(len(unique & other) * 2 >= min(len(unique), len(other)) for other in kept_words):
                continue
            kept.append(phrase)
            kept_words.append(unique)
            if len(kept) == self.count:
                break
        return kept


class KeywordTagger:
    """Computes the keywords of the store's papers that have none yet."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def tag(self, on_progress: Callable[[int], None] | None = None) -> int:
        """Compute and store the keywords of every paper without them; returns how many."""
        extractor = KeywordExtractor()
        done = 0
        while batch := self.store.papers.papers_without_keywords(BATCH):
            self.store.papers.save_keywords(
                {key: extractor.extract(title, abstract) for key, title, abstract in batch}
            )
            done += len(batch)
            if on_progress:
                on_progress(len(batch))
        if done:
            log.info("computed the keywords of %d papers", done)
        return done
