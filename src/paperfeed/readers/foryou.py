"""/for-you: the new papers of a window ranked for one reader by recommend.Recommender.

A signed-in reader's signals are everything they told the site: the papers of their collections
(the imported library among them), the titles and abstracts of library entries the store lacks,
their upvotes, followed authors and categories, saved searches, and their feedback on earlier
recommendations ("more like this" papers count double; "not interested" papers never come back
and lower papers like them). A visitor's signals are a list of papers given once (arXiv ids,
or a library file), kept nowhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperfeed.community.collections import IMPORTED
from paperfeed.errors import Invalid
from paperfeed.models import DISMISSED, MORE_LIKE_THIS, User
from paperfeed.readers.library import LibraryReport
from paperfeed.recommend.library import LibraryEntry
from paperfeed.recommend.ranker import Recommendation, Recommender
from paperfeed.recommend.signals import InterestText, PositivePaper, ReaderSignals
from paperfeed.store import SqlStore

WINDOWS = {"today": 1, "week": 7}  # days ending on the latest day with new papers
MAX_POSITIVES = 1000  # collection papers used, latest added first
MAX_UPVOTES = 200
MAX_TEXTS = 200  # unmatched library entries used
FOR_YOU_LIMIT = 30


@dataclass(slots=True)
class ForYou:
    window: str
    since: dt.date
    until: dt.date
    recommendations: list[Recommendation]
    signals: ReaderSignals
    library: LibraryReport | None = None  # a visitor's list, as read
    dismissed: int = 0  # papers the reader said "not interested" to


def window_dates(store: SqlStore, window: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """(since, until) of "today" or "week": the latest day with new papers (up to `today`),
    and the six days before it for a week."""
    if window not in WINDOWS:
        raise Invalid(f"the window is one of {', '.join(WINDOWS)}, not {window!r}")
    until = store.papers.latest_published_day(today) or today
    return until - dt.timedelta(days=WINDOWS[window] - 1), until


def reader_signals(store: SqlStore, user: User) -> ReaderSignals:
    """Everything `user` told the site, as the ranker's signals."""
    positives: list[PositivePaper] = []
    for collection in store.collections.of_user(user.id):
        origin = (
            "in your library"
            if collection.name == IMPORTED
            else f"in your collection {collection.name}"
        )
        positives += [
            PositivePaper(paper_id, origin)
            for paper_id in store.collections.paper_ids(collection.id, limit=MAX_POSITIVES)
        ]
    texts = [
        InterestText(i.title, f"{i.title}\n{i.abstract}".strip())
        for i in store.readers.interests_of(user.id)[-MAX_TEXTS:]
    ]
    follows = store.follows.of_user(user.id)
    feedback = store.readers.feedback_of(user.id)
    upvoted = store.community.votes_by_users([user.id], per_user=MAX_UPVOTES).get(user.id, [])
    return ReaderSignals(
        positives=tuple(positives[:MAX_POSITIVES]),
        texts=tuple(texts),
        authors=tuple(f.value for f in follows if f.kind == "author"),
        categories=tuple(f.value for f in follows if f.kind == "category"),
        searches=tuple(f.value for f in follows if f.kind == "search"),
        upvoted=tuple(upvoted),
        more_like=tuple(f.paper_id for f in feedback if f.kind == MORE_LIKE_THIS),
        dismissed=tuple(f.paper_id for f in feedback if f.kind == DISMISSED),
    )


def list_signals(report: LibraryReport) -> ReaderSignals:
    """A visitor's list (read and matched, nothing stored) as the ranker's signals."""
    return ReaderSignals(
        positives=tuple(
            PositivePaper(paper_id, "in your list")
            for paper_id in dict.fromkeys(pid for _, pid in report.matched)
        ),
        texts=tuple(_text(e) for e in report.unmatched[:MAX_TEXTS] if e.title),
    )


def _text(entry: LibraryEntry) -> InterestText:
    return InterestText(entry.title or "", entry.text, origin="in your list")


def rank(
    recommender: Recommender,
    store: SqlStore,
    signals: ReaderSignals,
    window: str,
    today: dt.date,
    *,
    limit: int = FOR_YOU_LIMIT,
) -> ForYou:
    since, until = window_dates(store, window, today)
    found = recommender.rank(signals, since, until, limit)
    return ForYou(window, since, until, found, signals, dismissed=len(signals.dismissed))
