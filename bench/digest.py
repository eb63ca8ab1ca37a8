"""Compose and render one day's digests for 100,000 synthetic subscribers over 500 real papers.

The papers are the first 500 arXiv cs.CV/cs.CL listings of 2025-05-27 (a real day), submitted to
the feed with Zipf-distributed upvotes. Paper and saved-search vectors come from the MiniLM model
(cached on disk; embedding time is reported apart, as search computes paper vectors at ingest).
Subscribers mix saved searches (phrases from other papers' titles), followed authors (names from
the corpus, some on the day), category filters and, for 2,000 linked accounts, upvotes.

Measured: loading the day's candidates, composing every digest (one matrix product per batch of
4,096 subscribers), rendering each digest's text and HTML, and building + serialising the MIME
message for a sample (extrapolated). Wall and CPU (process) times are both recorded, with the
1-minute load average before and after: on a shared machine the wall time depends on the load.
Writes bench/results/digest.json.

    python bench/digest.py [--subscribers 100000] [--papers 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, CachedEmbedder, arxiv_papers, paper_text, write_json

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.digest.compose import DEFAULT_OPTIONS, Composer, load_candidates
from paperfeed.digest.render import Renderer
from paperfeed.models import ACTIVE, Paper, Preferences, Submission, Subscriber
from paperfeed.search.embed import load_embedder

log = logging.getLogger("bench.digest")
DAY = dt.date(2025, 5, 27)
MIME_SAMPLE = 2000


class BenchVectors:
    """Precomputed paper and query vectors behind the interface search provides."""

    def __init__(self, papers: dict[str, np.ndarray], queries: dict[str, np.ndarray]) -> None:
        self.papers = papers
        self.queries = queries

    def vectors_for(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {pid: self.papers[pid] for pid in paper_ids if pid in self.papers}

    def embed_query(self, text: str) -> np.ndarray:
        return self.queries[text]


def corpus(n_day: int) -> tuple[list[Paper], list[Paper]]:
    """The day's papers and (for queries and author names) the papers listed before it."""
    papers = arxiv_papers(30_000)
    day = [p for p in papers if p.published and p.published.date() == DAY][:n_day]
    before = [p for p in papers if p.published and p.published.date() < DAY]
    return day, before


def query_pool(papers: list[Paper], size: int, rng: random.Random) -> list[str]:
    """Saved searches: 2-4 consecutive words from paper titles."""
    pool: set[str] = set()
    while len(pool) < size:
        words = [w.strip(":,.()") for w in rng.choice(papers).title.split()]
        words = [w for w in words if len(w) > 2]
        if len(words) < 3:
            continue
        span = rng.randint(2, 4)
        start = rng.randrange(0, max(1, len(words) - span))
        pool.add(" ".join(words[start : start + span]).lower())
    return sorted(pool)


def make_subscribers(
    n: int,
    queries: list[str],
    day: list[Paper],
    before: list[Paper],
    users: list[int],
    rng: random.Random,
) -> list[Subscriber]:
    day_authors = [a for p in day for a in p.authors]
    other_authors = [a for p in before for a in p.authors]
    categories = ["cs.CL", "cs.CV", "cs.LG", "cs.AI", "cs", "cs.RO", "eess.IV"]
    subscribers = []
    for i in range(n):
        searches = rng.sample(queries, rng.randint(1, 3)) if rng.random() < 0.6 else []
        authors: list[str] = []
        if rng.random() < 0.3:
            authors = [rng.choice(other_authors) for _ in range(rng.randint(1, 4))]
            if rng.random() < 0.3:
                authors.append(rng.choice(day_authors))
        cats = rng.sample(categories, rng.randint(1, 2)) if rng.random() < 0.2 else []
        prefs = Preferences.create(
            max_papers=rng.choice([5, 10, 10, 20]),
            searches=searches,
            authors=authors,
            categories=cats,
        )
        user_id = users[i] if i < len(users) else None
        subscribers.append(Subscriber(i + 1, f"reader{i + 1}@example.org", ACTIVE, prefs, user_id))
    return subscribers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--users", type=int, default=2000, help="linked accounts with upvotes")
    parser.add_argument("--queries", type=int, default=1000, help="distinct saved searches")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    rng = random.Random(7)

    day, before = corpus(args.papers)
    log.info("%d papers listed on %s, %d earlier", len(day), DAY, len(before))
    queries = query_pool(before, args.queries, rng)
    embedder = CachedEmbedder(load_embedder("minilm"), "digest-bench")
    started = time.perf_counter()
    embedder.warm([paper_text(p) for p in day] + queries)
    embedder.flush()
    embed_seconds = time.perf_counter() - started
    paper_vectors = dict(
        zip(
            [p.id for p in day], embedder.embed_documents([paper_text(p) for p in day]), strict=True
        )
    )
    query_vectors = dict(zip(queries, embedder.embed_documents(queries), strict=True))
    vectors = BenchVectors(paper_vectors, query_vectors)

    with (
        tempfile.TemporaryDirectory() as tmp,
        PaperFeed(Settings(data_dir=Path(tmp), secret_key="bench")) as feed,
    ):
        store = feed.store
        store.papers.upsert_papers(day)
        submitted = dt.datetime.combine(DAY, dt.time(6), dt.UTC)
        store.community.save_submissions(
            Submission(
                p.id,
                DAY,
                submitted + dt.timedelta(minutes=i),
                "bench",
                imported_upvotes=int(200 / (i + 1)),
            )
            for i, p in enumerate(rng.sample(day, len(day)))
        )
        users = []
        for u in range(args.users):
            user = store.community.create_user(f"user{u}", None)
            for paper in rng.sample(day, 3):
                store.community.add_vote(paper.id, user.id)
            users.append(user.id)
        subscribers = make_subscribers(args.subscribers, queries, day, before, users, rng)
        renderer = Renderer(
            "https://papers.example.org", "paperfeed <digest@papers.example.org>", "bench"
        )

        load_before = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        candidates = load_candidates(store, DAY, DAY, vectors=vectors, gravity=1.8)
        t1, c1 = time.perf_counter(), time.process_time()
        composer = Composer(store, candidates, vectors, DEFAULT_OPTIONS)
        digests = composer.compose(DAY, subscribers)
        t2, c2 = time.perf_counter(), time.process_time()
        html_bytes = text_bytes = 0
        sample = []
        for i, digest in enumerate(digests):
            if digest.is_empty:
                continue
            rendered = renderer.render_digest(digest)
            html_bytes += len(rendered.html)
            text_bytes += len(rendered.text)
            if i % max(1, len(digests) // MIME_SAMPLE) == 0 and len(sample) < MIME_SAMPLE:
                sample.append(rendered)
        t3, c3 = time.perf_counter(), time.process_time()
        load_after = os.getloadavg()[0]
        message_bytes = 0
        for rendered in sample:
            message_bytes += len(renderer.digest_message(rendered).as_bytes())
        t4 = time.perf_counter()

    kinds = Counter(p.kind for d in digests for p in (*d.picks, *d.trending))
    with_personal = sum(bool(d.picks) for d in digests)
    mime_ms = (t4 - t3) / max(1, len(sample)) * 1000
    result = {
        "subscribers": len(subscribers),
        "papers": len(candidates.papers),
        "day": DAY.isoformat(),
        "embedder": embedder.name,
        "distinct_saved_searches": len(queries),
        "linked_accounts_with_upvotes": len(users),
        "embed_seconds_papers_and_queries": round(embed_seconds, 1),
        "load_candidates_seconds": round(t1 - t0, 2),
        "compose_seconds": round(t2 - t1, 2),
        "render_seconds": round(t3 - t2, 2),
        "compose_and_render_seconds": round(t3 - t0, 2),
        "compose_cpu_seconds": round(c2 - c1, 2),
        "render_cpu_seconds": round(c3 - c2, 2),
        "compose_and_render_cpu_seconds": round(c3 - c0, 2),
        "load_average_1min": [round(load_before, 2), round(load_after, 2)],
        "cpus": os.cpu_count(),
        "target_seconds": 120,
        "per_subscriber_ms": round((t3 - t0) / len(subscribers) * 1000, 3),
        "mime_sample": len(sample),
        "mime_ms_per_message": round(mime_ms, 2),
        "mime_extrapolated_seconds": round(mime_ms * len(digests) / 1000, 1),
        "digests_with_personal_picks": with_personal,
        "picks_by_kind": dict(kinds),
        "mean_papers_per_digest": round(sum(len(d.paper_ids) for d in digests) / len(digests), 2),
        "mean_html_kb": round(html_bytes / len(digests) / 1024, 1),
        "mean_text_kb": round(text_bytes / len(digests) / 1024, 1),
        "mean_message_kb": round(message_bytes / max(1, len(sample)) / 1024, 1),
    }
    write_json(RESULTS / "digest.json", result)
    for key, value in result.items():
        print(f"{key:>36}  {value}")


if __name__ == "__main__":
    main()
