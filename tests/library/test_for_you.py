"""/for-you: the new papers ranked by the reader's collections (and the rest of what they told
the site), each with its reason; "not interested" removes a paper for good and lowers the ones
like it; reset forgets the feedback; a visitor ranks a pasted list that is stored nowhere."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
from fastapi.testclient import TestClient

from paperfeed.core import PaperFeed
from paperfeed.models import User
from paperfeed.query import parse_query
from paperfeed.store.reader_tables import READER_TABLES
from tests.library.conftest import count_rows, new_reader, papers_of_day

WEEK = {"window": "week"}


def _ranked(client: TestClient) -> list[str]:
    page = client.get("/for-you", params=WEEK)
    assert page.status_code == 200
    return re.findall(r'<h3 class="title"><a href="/papers/([^"]+)"', page.text)


def _topic_papers(site: PaperFeed, words: str, count: int) -> list[str]:
    """Papers of the listings about `words` (keyword search)."""
    hits = site.search(parse_query(words, limit=count), mode="keyword").hits
    return [h.paper.id for h in hits]


def _reader_who_likes(
    site: PaperFeed, client: TestClient, words: str
) -> tuple[User, str, list[str]]:
    user, csrf = new_reader(site, client)
    liked = _topic_papers(site, words, 4)
    for paper_id in liked:
        client.post(
            "/collections/save",
            data={"paper_id": paper_id, "new_name": "Splats", "csrf_token": csrf},
        )
    return user, csrf, liked


def test_for_you_ranks_new_papers_by_the_readers_collection(
    site: PaperFeed, client: TestClient
) -> None:
    _, _, liked = _reader_who_likes(site, client, "gaussian splatting")
    page = client.get("/for-you", params=WEEK)
    ranked = _ranked(client)
    assert ranked and not set(ranked) & set(liked)  # their own papers are not recommended
    assert "in your collection Splats" in page.text
    # splatting papers are a few of the window's hundreds; they rise to the top
    top = [site.store.papers.get_paper(paper_id) for paper_id in ranked[:5]]
    assert sum("splat" in (p.title + p.abstract).lower() for p in top) >= 2
    assert "For you" in page.text and 'href="/for-you"' in page.text  # the nav link


def test_not_interested_removes_the_paper_and_lowers_similar_ones(
    site: PaperFeed, client: TestClient
) -> None:
    user, csrf, _ = _reader_who_likes(site, client, "gaussian splatting")
    before = site.readers.for_you(user, "week").recommendations
    scores = {r.paper.id: r.score for r in before}
    dismissed = before[0].paper.id
    vectors = site.search_engine.vectors_for([r.paper.id for r in before])
    similar = max(
        (pid for pid in scores if pid != dismissed and pid in vectors),
        key=lambda pid: float(np.dot(vectors[pid], vectors[dismissed])),
    )
    response = client.post(
        "/for-you/feedback",
        data={
            "paper_id": dismissed,
            "kind": "dismissed",
            "next": "/for-you?window=week",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    after = {r.paper.id: r.score for r in site.readers.for_you(user, "week").recommendations}
    assert dismissed not in after and dismissed not in _ranked(client)
    assert after.get(similar, -np.inf) < scores[similar]
    assert "Reset my feedback" in client.get("/for-you", params=WEEK).text

    client.post("/for-you/reset", data={"csrf_token": csrf})
    assert site.store.readers.feedback_of(user.id) == []
    assert dismissed in {r.paper.id for r in site.readers.for_you(user, "week").recommendations}


def test_more_like_this_counts_the_paper_among_the_interests(
    site: PaperFeed, client: TestClient
) -> None:
    user, csrf, _ = _reader_who_likes(site, client, "gaussian splatting")
    wanted = _topic_papers(site, "speech recognition", 1)[0]
    client.post("/for-you/feedback", data={"paper_id": wanted, "kind": "more", "csrf_token": csrf})
    reasons = {r.reason for r in site.readers.for_you(user, "week").recommendations}
    assert any("you asked for more like it" in reason for reason in reasons)


def test_for_you_and_its_feedback_are_the_readers_alone(
    site: PaperFeed, client: TestClient
) -> None:
    with TestClient(client.app) as visitor:
        page = visitor.get("/for-you")
        assert page.status_code == 200 and 'name="ids"' in page.text  # the list form
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        refused = visitor.post(
            "/for-you/feedback",
            data={
                "paper_id": papers_of_day(site, dt.date(2025, 3, 18))[0],
                "kind": "dismissed",
                "csrf_token": token,
            },
        )
        assert refused.status_code == 401
        assert visitor.get("/library", follow_redirects=False).status_code == 303


def test_a_visitors_list_is_ranked_and_stored_nowhere(site: PaperFeed, client: TestClient) -> None:
    liked = _topic_papers(site, "gaussian splatting", 3)
    before = site.stats(), count_rows(site, READER_TABLES)
    page = client.get("/for-you")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    ranked = client.post(
        "/for-you",
        data={"ids": "\n".join(liked), "window": "week", "csrf_token": token},
    )
    assert ranked.status_code == 200
    assert "in your list" in ranked.text
    found = re.findall(r'<h3 class="title"><a href="/papers/([^"]+)"', ranked.text)
    assert found and not set(found) & set(liked)
    assert (site.stats(), count_rows(site, READER_TABLES)) == before
