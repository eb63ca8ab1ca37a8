"""What counting every match costs a search: page 1 of short search-box queries on the real
arXiv cs.CV/cs.CL listings, with the true total (now) and without it (the ranked candidates'
count, as before), side by side in one run; and how long the last page of the most common query
takes. Keyword search (BM25, tantivy): the count is the keyword side's; the model is not run.

Writes bench/results/result_count.json. Usage: python bench/result_count.py [--papers 30000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import tempfile
import time
from itertools import islice
from pathlib import Path

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.files import read_jsonl
from paperfeed.query import parse_query
from paperfeed.search import engine

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
QUERIES = [
    "language models",
    "diffusion",
    "image segmentation",
    "speech recognition",
    "vision transformer",
    "reinforcement learning",
    "graph neural networks",
    "retrieval",
    "machine translation",
    "object detection",
    "3d reconstruction",
    "benchmark",
]
ROUNDS = 5


def corpus(path: Path, papers: int) -> Path:
    """The first `papers` records of the listings, as their own JSON lines file."""
    target = path / "papers.jsonl"
    with gzip.open(DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz", "rt") as lines:
        target.write_text("".join(islice(lines, papers)))
    return target


def timed(feed: PaperFeed, text: str, mode: str, offset: int = 0) -> tuple[float, int]:
    start = time.perf_counter()
    results = feed.search(parse_query(text, limit=20, offset=offset), mode=mode)
    return (time.perf_counter() - start) * 1000, results.total


def p50(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=30_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", secret_key="bench")
        with PaperFeed(settings) as feed:
            feed.ingest(read_jsonl(corpus(Path(tmp), args.papers)))
            counted = feed.search_engine._total
            uncounted = lambda query, head, tail, truncated: (len(head) + len(tail), False)  # noqa: E731
            report: dict[str, object] = {"papers": feed.count_papers(), "queries": QUERIES}
            for mode in ("keyword",):
                for text in QUERIES:
                    timed(feed, text, mode)  # warm
                rows = {}
                for name, total in (("with_true_total", counted), ("without", uncounted)):
                    feed.search_engine._total = total  # type: ignore[method-assign]
                    times, totals = [], []
                    for _ in range(ROUNDS):
                        for text in QUERIES:
                            ms, count = timed(feed, text, mode)
                            times.append(ms)
                            totals.append(count)
                    rows[name] = {
                        "p50_ms": p50(times),
                        "max_ms": round(max(times), 2),
                        "totals": totals[: len(QUERIES)],
                    }
                feed.search_engine._total = counted  # type: ignore[method-assign]
                report[mode] = rows
            total = feed.search(parse_query("language models", limit=20)).total
            last = (min(total, engine.COUNT_CAP) - 1) // 20 * 20
            report["last_page_language_models"] = {
                "total": total,
                "offset": last,
                "ms": p50([timed(feed, "language models", "keyword", last)[0] for _ in range(3)]),
            }
    out = ROOT / "bench" / "results" / "result_count.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
