"""What a signed-in reader keeps on the site and gets from it: collections, follows, an imported
library, /for-you with its feedback, author pages, and their data as a whole (export, delete).

A reader's collections (unless public), library, feedback and /for-you are theirs alone: the
service is always asked on behalf of a user, and other readers get NotFound.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from paperfeed.community.collections import Collections
from paperfeed.community.follows import Follows
from paperfeed.community.moderation import paper_for_reader
from paperfeed.errors import Invalid
from paperfeed.models import FEEDBACK_KINDS, User
from paperfeed.readers import authors, foryou, library
from paperfeed.recommend.ranker import Recommender
from paperfeed.search.engine import SearchEngine
from paperfeed.store import SqlStore

__all__ = ["Readers"]


class Readers:
    """The readers' features over one store; `recommender` and `search` give the ranker and
    the search engine when first needed, `today` the date /for-you windows end on."""

    def __init__(
        self,
        store: SqlStore,
        *,
        recommender: Callable[[], Recommender],
        search: Callable[[], SearchEngine],
        today: Callable[[], dt.date],
    ) -> None:
        self.store = store
        self.collections = Collections(store)
        self.follows = Follows(store)
        self._recommender = recommender
        self._search = search
        self._today = today

    def author(self, name: str) -> authors.AuthorPage:
        """An author's papers, spellings merged when unambiguous (NotFound when none)."""
        return authors.author_page(self._search(), name)

    def import_library(
        self, user: User, data: bytes, filename: str | None = None
    ) -> library.LibraryReport:
        return library.import_library(self.store, self.collections, user, data, filename)

    # -- /for-you ----------------------------------------------------------------------------

    def for_you(self, user: User, window: str = "today") -> foryou.ForYou:
        signals = foryou.reader_signals(self.store, user)
        return foryou.rank(self._recommender(), self.store, signals, window, self._today())

    def for_list(self, data: bytes, filename: str | None, window: str = "today") -> foryou.ForYou:
        """/for-you for a visitor's list of papers (ids, or a library file); nothing stored."""
        _, report = library.read_library(self.store, data, filename)
        if not report.matched and not report.unmatched:
            raise Invalid("the list names no paper: paste arXiv ids, or a BibTeX file")
        signals = foryou.list_signals(report)
        result = foryou.rank(self._recommender(), self.store, signals, window, self._today())
        result.library = report
        return result

    def feedback(self, user: User, paper_id: str, kind: str) -> None:
        """ "not interested" (models.DISMISSED) or "more like this" (models.MORE_LIKE_THIS)."""
        if kind not in FEEDBACK_KINDS:
            raise Invalid(f"feedback is one of {', '.join(FEEDBACK_KINDS)}")
        paper, _ = paper_for_reader(self.store, paper_id, user)
        self.store.readers.set_feedback(user.id, paper.id, kind)

    def reset_feedback(self, user: User) -> int:
        return self.store.readers.clear_feedback(user.id)

    # -- the account as a whole --------------------------------------------------------------

    def export(self, user: User) -> dict[str, Any]:
        """Everything the site holds about `user` (one JSON document)."""
        return {"format": "paperfeed-account-export/1", **self.store.readers.export(user.id)}

    def delete(self, user: User) -> dict[str, int]:
        """Delete the account and all it holds (the caller checked the password)."""
        return self.store.readers.delete_account(user.id)
