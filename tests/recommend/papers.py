"""Papers on three topics the ranker, CLI and API tests rank: a reader's speech library and
this week's speech, vision and parsing papers."""

from __future__ import annotations

import datetime as dt

from paperfeed.core import PaperFeed
from paperfeed.models import Paper
from paperfeed.recommend import PositivePaper
from tests.recommend.conftest import TODAY
from tests.support.factories import make_paper

__all__ = ["LIBRARY", "TODAY", "store_topic_papers"]

SPEECH = "speech recognition acoustic model spoken audio transcription"
VISION = "image segmentation pixel mask object detection convolutional"
PARSING = "syntactic parsing dependency treebank grammar"


def _paper(paper_id: str, topic: str, days_ago: int, authors: list[str], twist: str = "") -> Paper:
    return make_paper(
        paper_id,
        title=f"{topic.split()[0].title()} {twist} {paper_id}".strip(),
        abstract=f"We study {topic} {twist}.",
        authors=authors,
        categories=["cs.CL"] if topic != VISION else ["cs.CV"],
        published=dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(9), dt.UTC),
    )


def store_topic_papers(feed: PaperFeed) -> dict[str, Paper]:
    """Three older speech papers (the reader's library) and this week's papers on speech,
    vision and parsing, embedded."""
    papers = [
        # the reader's library: older speech papers
        _paper("2601.00001", SPEECH, 60, ["Grace Hopper", "Alan Kay"], "streaming"),
        _paper("2601.00002", SPEECH, 50, ["Grace Hopper"], "noisy"),
        _paper("2601.00003", SPEECH, 40, ["Barbara Liskov"], "children"),
        # this week's papers
        _paper("2603.00010", SPEECH, 1, ["Ken Thompson"], "streaming noisy"),
        _paper("2603.00011", SPEECH, 2, ["Dennis Ritchie"], "children streaming"),
        _paper("2603.00012", VISION, 1, ["Linus Torvalds"], "autonomous driving lidar street"),
        _paper("2603.00013", PARSING, 3, ["G. Hopper"]),
        _paper("2603.00014", VISION, 2, ["Edsger Dijkstra"], "medical radiology tumour scans"),
        _paper("2603.00015", VISION, 4, ["Donald Knuth"], "medical radiology tumour ultrasound"),
        # older than the window
        _paper("2602.00020", SPEECH, 20, ["Ken Thompson"], "streaming noisy"),
    ]
    feed.store.papers.upsert_papers(papers)
    feed.index()
    return {p.id: p for p in papers}


LIBRARY = tuple(
    PositivePaper(i, "in your collection Speech")
    for i in ("2601.00001", "2601.00002", "2601.00003")
)
