"""The ranker: what it never returns, what it lowers, why it recommends, which days it ranks."""

from __future__ import annotations

import dataclasses
import datetime as dt

from paperfeed.core import PaperFeed
from paperfeed.recommend import InterestText, PositivePaper, ReaderSignals
from paperfeed.recommend.authors import AuthorIndex
from tests.recommend.papers import LIBRARY, TODAY, store_topic_papers
from tests.support.factories import make_paper


def _ids(recommendations: list) -> list[str]:
    return [r.paper.id for r in recommendations]


def test_library_papers_and_the_window(feed: PaperFeed) -> None:
    store_topic_papers(feed)
    found = feed.recommender.rank(ReaderSignals(positives=LIBRARY), limit=10)

    ids = _ids(found)
    assert ids[:2] == ["2603.00010", "2603.00011"] or set(ids[:2]) == {"2603.00010", "2603.00011"}
    assert not set(ids) & {"2601.00001", "2601.00002", "2601.00003"}  # the library itself
    assert "2602.00020" not in ids  # published before the window (the last 7 days)
    assert found[0].reason.startswith("like '") and found[0].reason.endswith(
        "in your collection Speech"
    )
    assert found[0].score >= found[-1].score
    older = feed.recommender.rank(
        ReaderSignals(positives=LIBRARY),
        since=TODAY - dt.timedelta(days=30),
        until=TODAY - dt.timedelta(days=10),
    )
    assert _ids(older) == ["2602.00020"]


def test_followed_and_library_authors_give_the_reason(feed: PaperFeed) -> None:
    store_topic_papers(feed)
    followed = feed.recommender.rank(
        ReaderSignals(positives=LIBRARY, authors=("Donald Knuth",)), limit=10
    )
    assert followed[0].paper.id == "2603.00015"
    assert followed[0].reason == "by an author you follow: Donald Knuth"
    assert followed[0].kind == "author"
    # "G. Hopper" wrote a parsing paper: Grace Hopper is in two library papers.
    by_library_author = {r.paper.id: r for r in followed}["2603.00013"]
    assert by_library_author.reason == "by Grace Hopper, an author in your library"
    assert by_library_author.kind == "library-author"


def test_dismissed_never_returned_and_similar_lowered(feed: PaperFeed) -> None:
    store_topic_papers(feed)
    signals = ReaderSignals(categories=("cs.CV",), positives=LIBRARY)
    before = {r.paper.id: r.score for r in feed.recommender.rank(signals, limit=10)}
    assert {"2603.00014", "2603.00015", "2603.00012"} <= set(before)

    dismissing = dataclasses.replace(signals, dismissed=("2603.00014",))
    after = {r.paper.id: r.score for r in feed.recommender.rank(dismissing, limit=10)}

    assert "2603.00014" not in after
    drop = {paper_id: before[paper_id] - after[paper_id] for paper_id in after}
    # "medical" vision papers like the dismissed one sink most; other topics keep their place
    assert drop["2603.00015"] > drop["2603.00012"] > drop["2603.00010"] - 1e-9
    assert drop["2603.00015"] > 0.5


def _store_hopper_papers(feed: PaperFeed) -> None:
    """One more older speech paper by Grace Hopper (liked in the tests below) and this week's
    second parsing paper by her."""
    published = {"2601.00004": 30, "2603.00016": 2}
    feed.store.papers.upsert_papers(
        [
            make_paper(
                paper_id,
                title=f"Hopper paper {paper_id}",
                abstract=f"We study {'speech recognition' if days > 7 else 'treebank grammar'}.",
                authors=["Grace Hopper"],
                published=dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(9), dt.UTC),
            )
            for paper_id, days in published.items()
        ]
    )
    feed.index()


def test_an_author_of_most_of_the_library_comes_before_similar_papers(feed: PaperFeed) -> None:
    store_topic_papers(feed)
    _store_hopper_papers(feed)
    # two of three liked papers by one author: similar papers still come first
    assert _ids(feed.recommender.rank(ReaderSignals(positives=LIBRARY), limit=2)) != ["2603.00013"]
    mostly_hopper = ReaderSignals(positives=(*LIBRARY, PositivePaper("2601.00004")))
    found = feed.recommender.rank(mostly_hopper, limit=10)
    # three of four: her new papers first, whatever their topic
    assert set(_ids(found)[:2]) == {"2603.00013", "2603.00016"}
    assert found[0].reason == "by Grace Hopper, an author in your library"


def test_not_interested_in_a_paper_lowers_its_library_authors_other_papers(
    feed: PaperFeed,
) -> None:
    store_topic_papers(feed)
    _store_hopper_papers(feed)
    before = {r.paper.id: r for r in feed.recommender.rank(ReaderSignals(positives=LIBRARY))}
    assert before["2603.00013"].kind == "library-author"  # by "G. Hopper"

    dismissing = ReaderSignals(positives=LIBRARY, dismissed=("2603.00016",))
    after = {r.paper.id: r for r in feed.recommender.rank(dismissing)}

    assert "2603.00016" not in after
    # Grace Hopper now counts once in the library: her other paper loses that reason
    lowered = after.get("2603.00013")
    assert lowered is None or (
        lowered.kind != "library-author" and lowered.score < before["2603.00013"].score
    )


def test_texts_and_searches_rank_without_store_papers(feed: PaperFeed) -> None:
    store_topic_papers(feed)
    text = InterestText("Ultrasound", "medical ultrasound image segmentation", "in your library")
    found = feed.recommender.rank(ReaderSignals(texts=(text,)), limit=3)
    assert found[0].paper.id == "2603.00015"
    assert found[0].reason == "like 'Ultrasound' in your library" and found[0].kind == "text"
    searched = feed.recommender.rank(ReaderSignals(searches=("dependency treebank",)), limit=3)
    assert searched[0].paper.id == "2603.00013"
    assert searched[0].reason == "matches your search 'dependency treebank'"


def test_nothing_to_go_on_ranks_nothing(feed: PaperFeed) -> None:
    store_topic_papers(feed)
    assert feed.recommender.rank(ReaderSignals(dismissed=("2603.00010",))) == []


def test_author_name_variants() -> None:
    index = AuthorIndex(
        [["John Smith"], ["J. Smith"], ["Jane Smith"], ["Smith, John"], ["José Müller"]]
    )
    assert index.papers_by("John Smith") == {0, 1, 3}  # not Jane
    assert index.papers_by("J. Smith") == {0, 1, 2, 3}  # an initial: every J. Smith
    assert index.papers_by("jose muller") == {4}
    assert index.papers_by("Smith John") == set()  # no reordering without a comma
