"""What a reader's personal feed is ranked from, and what comes back.

`ReaderSignals` is filled by whoever knows the reader (the /for-you page from collections,
library, upvotes, follows and feedback; the digest from a subscription; the CLI and the API from a
library file) and handed to `Recommender.rank`. Every field is optional; an empty one adds
nothing. Paper ids are canonical store ids (``2401.01234`` or ``local:...``).
"""

from __future__ import annotations

from dataclasses import dataclass

# `Recommendation.kind`: which signal gave the paper its reason.
LIBRARY = "library"  # like a positive paper (collection, library, upvote, "more like this")
TEXT = "text"  # like a library entry that is not in the store (its title and abstract)
AUTHOR = "author"  # by a followed author
LIBRARY_AUTHOR = "library-author"  # by an author frequent in the reader's positive papers
SEARCH = "search"  # matches a saved search
CATEGORY = "category"  # in a followed category
KINDS = (LIBRARY, TEXT, AUTHOR, LIBRARY_AUTHOR, SEARCH, CATEGORY)


@dataclass(frozen=True, slots=True)
class PositivePaper:
    """A paper the reader likes. `origin` completes the reason "like '<title>' <origin>", e.g.
    "in your collection Diffusion", "in your library", "you upvoted". `weight` (> 0, 1 = an
    ordinary library paper) scales its pull: "more like this" papers count double."""

    paper_id: str
    origin: str = "in your library"
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class InterestText:
    """A free-text interest: a library entry the store lacks (its title + abstract). `title` is
    what the reason quotes ("like '<title>' <origin>")."""

    title: str
    text: str  # what is embedded: title and abstract when known
    origin: str = "in your library"
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class ReaderSignals:
    """Everything known about one reader's interests.

    * `positives`: liked papers (collections, imported library, upvotes); never recommended
      themselves. Their authors count as "authors in your library" (by how many of them they
      wrote) and their embeddings pull similar papers up.
    * `texts`: interests that are not store papers (unmatched library entries).
    * `authors`: followed author names (any spelling: accents, case and "J. Smith" for
      "John Smith" are matched). `categories`: followed categories (``cs.CL`` or ``cs``),
      a boost. `category_filter`: when not empty, only papers in these categories are returned.
    * `searches`: saved searches, matched by meaning and words.
    * `upvoted`: the reader's upvotes (like positives with origin "you upvoted").
    * `more_like`: "more like this" papers (positives with double weight).
    * `dismissed`: "not interested": never returned; papers like them, and papers by their
      authors among the library's frequent authors, are lowered.
    * `exclude`: never returned, nothing else (papers already sent, already seen).
    """

    positives: tuple[PositivePaper, ...] = ()
    texts: tuple[InterestText, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    category_filter: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    upvoted: tuple[str, ...] = ()
    more_like: tuple[str, ...] = ()
    dismissed: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing could rank a paper (dismissals and exclusions alone do not)."""
        return not (
            self.positives
            or self.texts
            or self.authors
            or self.categories
            or self.searches
            or self.upvoted
            or self.more_like
        )
