"""How well three rankers find an author's next papers from their earlier ones (real data).

Data, three sets in one run: the cs.CV/cs.CL new-listing crawl (``listed`` = the day first
listed; cut `--cut`, a `--days` window), the Hugging Face daily papers (arXiv publication
dates; cut `--hf-cut`, a `--hf-days` window) and the ML conference papers (NeurIPS, ICML...
by year: the papers of `--ml-cut`'s year). An author with at least 8 papers in a set, at
least `--min-library` published before the cut and at least one in the window, is a reader:
their library is their papers before the cut (the latest `--max-library`), their targets are
their papers in the window, and the candidates are every paper of the window. Up to
`--readers` authors per set are sampled with a fixed seed and split in two halves by a hash of
their name: the ranker's weights were chosen on the arXiv set's "tune" half; the "report" half
and the other sets were not looked at while choosing.

Rankers, on the same candidates and MiniLM vectors (cached under bench/results/cache/):
  (a) zotero-arxiv-daily: the library's newest papers first, weights 1 / (1 + log10(rank)),
      normalised; score = the weighted mean cosine to the library;
  (b) arxiv-sanity-lite: tf-idf of title + abstract + authors (its compute.py settings) over
      the set's bench corpus and a linear SVM per reader (library = positives, the rest
      negatives; C=0.1, balanced classes, as its serve.py), ranked by decision value;
  (c) paperfeed: `Recommender.rank` on a real SQLite store holding the papers and their vectors,
      plus variants: the ranker before the author share, cosine only, the share halved and
      doubled, top-1 neighbour, and the feedback of before (no margin, no author count).
Measured: recall@20, nDCG@20 (binary gain) and MRR, averaged over readers, per half and all.

Feedback: the simulated reader dismisses ("not interested") the non-target picks of the top 10
that are outside their topics (their best cosine to the library is below that of every target
of theirs), and the ranking is asked again; nDCG@20 and MRR before and after, for paperfeed
and for paperfeed with the feedback of before.

    python bench/recommend.py [--readers 300] [--cut 2026-02-02] [--days 14]
Writes bench/results/recommend.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import os
import random
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    RESULTS,
    CachedEmbedder,
    arxiv_papers,
    hf_daily_papers,
    mean,
    ml_papers,
    ndcg,
    paper_text,
    recall_at,
    reciprocal_rank,
    write_json,
)

from paperfeed.models import Paper
from paperfeed.recommend import PositivePaper, RankOptions, ReaderSignals, Recommender
from paperfeed.recommend.authors import name_keys
from paperfeed.search.embed import load_embedder
from paperfeed.search.indexing import text_hash
from paperfeed.store import open_store

log = logging.getLogger("bench.recommend")
K = 20
FEEDBACK_VARIANTS = ("paperfeed", "paperfeed, feedback as before")


@dataclasses.dataclass(slots=True)
class Reader:
    name: str
    library: list[Paper]  # newest first
    targets: set[str]


class Vectors:
    """The cached MiniLM vectors behind the interface the ranker needs."""

    def __init__(self, embedder: CachedEmbedder, papers: dict[str, Paper]) -> None:
        self.embedder = embedder
        self.papers = papers

    def vectors_for(self, paper_ids: list[str]) -> dict[str, np.ndarray]:
        known = [p for p in paper_ids if p in self.papers]
        vectors = self.embedder.embed_documents([paper_text(self.papers[p]) for p in known])
        return dict(zip(known, vectors, strict=True))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_query(text)


def choose_readers(
    papers: list[Paper], cut: dt.date, end: dt.date, args: argparse.Namespace
) -> list[Reader]:
    by_author: dict[str, list[Paper]] = defaultdict(list)
    for paper in papers:
        for name in paper.authors:
            by_author[name_keys(name)[0]].append(paper)
    readers = []
    for key, written in sorted(by_author.items()):
        if len(written) < 8:
            continue
        before = sorted(
            (p for p in written if p.published.date() < cut),
            key=lambda p: p.published,
            reverse=True,
        )
        after = {p.id for p in written if cut <= p.published.date() <= end}
        if len(before) >= args.min_library and after:
            readers.append(Reader(key, before[: args.max_library], after))
    random.Random(args.seed).shuffle(readers)
    return readers[: args.readers]


# -- the rankers -------------------------------------------------------------------------------


def zotero_arxiv_daily(reader: Reader, cand_matrix: np.ndarray, vectors: Vectors) -> np.ndarray:
    library = np.stack(list(vectors.vectors_for([p.id for p in reader.library]).values()))
    ranks = np.arange(len(library))  # newest first
    weights = 1 / (1 + np.log10(ranks + 1))
    weights /= weights.sum()
    return (cand_matrix @ library.T) @ weights


def arxiv_sanity_features(corpus: list[Paper]):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        input="content",
        encoding="utf-8",
        decode_error="replace",
        strip_accents="unicode",
        lowercase=True,
        analyzer="word",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=20_000,
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
        max_df=0.5,
        min_df=5,
    )
    texts = [" ".join([p.title, p.abstract, " ".join(p.authors)]) for p in corpus]
    return vectorizer.fit_transform(texts).astype(np.float32)


def arxiv_sanity_lite(reader: Reader, features, row_of: dict[str, int], candidates: list[str]):  # type: ignore[no-untyped-def]
    from sklearn import svm

    y = np.zeros(features.shape[0], dtype=np.float32)
    y[[row_of[p.id] for p in reader.library]] = 1.0
    classifier = svm.LinearSVC(class_weight="balanced", max_iter=10_000, tol=1e-6, C=0.1)
    classifier.fit(features, y)
    return classifier.decision_function(features[[row_of[c] for c in candidates]])


def paperfeed_ranking(
    recommender: Recommender, reader: Reader, cut: dt.date, end: dt.date, **signals
):  # type: ignore[no-untyped-def]
    positives = tuple(PositivePaper(p.id) for p in reader.library)
    found = recommender.rank(ReaderSignals(positives=positives, **signals), cut, end, limit=K)
    return [r.paper.id for r in found]


def metrics(ranked: list[str], targets: set[str]) -> dict[str, float]:
    gains = [1.0 if pid in targets else 0.0 for pid in ranked[:K]]
    return {
        "recall@20": recall_at(ranked, targets, K),
        "ndcg@20": ndcg(gains, K, ideal=[1.0] * len(targets)),
        "mrr": reciprocal_rank(ranked, targets, K),
    }


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: mean(r[key] for r in rows) for key in ("recall@20", "ndcg@20", "mrr")}


# -- the run ----------------------------------------------------------------------------------


def build_store(path: Path, papers: list[Paper], vectors: Vectors, model: str):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{path}")
    store.papers.upsert_papers(papers)
    keys = store.papers.paper_keys([p.id for p in papers])
    found = vectors.vectors_for([p.id for p in papers])
    store.embeddings.save_embeddings(
        model,
        [(keys[p.id], text_hash(paper_text(p)), found[p.id]) for p in papers],
    )
    return store


@dataclasses.dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    papers: list[Paper]
    cut: dt.date
    days: int
    cache: str  # the vectors' cache (bench/results/cache/<model>--<cache>.npz)


VARIANTS = {
    "paperfeed": RankOptions(),
    "paperfeed before (no author share)": RankOptions(library_share=0.0),
    "paperfeed, cosine only (top-5 mean)": RankOptions(library_author=0.0, library_share=0.0),
    "paperfeed, author share 4": RankOptions(library_share=4.0),
    "paperfeed, author share 16": RankOptions(library_share=16.0),
    "paperfeed, top-1 + authors": RankOptions(neighbours=1),
    "paperfeed, feedback as before": RankOptions(dismissed_margin=0.0, dismissed_author=0.0),
}


def half(reader: Reader) -> str:
    """Readers split by a hash of their name: weights were chosen on "tune" (arXiv set)."""
    return "tune" if zlib.crc32(reader.name.encode()) % 2 == 0 else "report"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cut", type=dt.date.fromisoformat, default=dt.date(2026, 2, 2))
    parser.add_argument("--days", type=int, default=14, help="window after the cut")
    parser.add_argument("--hf-cut", type=dt.date.fromisoformat, default=dt.date(2026, 3, 1))
    parser.add_argument("--hf-days", type=int, default=31, help="window after the HF cut")
    parser.add_argument("--ml-cut", type=dt.date.fromisoformat, default=dt.date(2018, 1, 1))
    parser.add_argument("--ml-days", type=int, default=365, help="window after the ML cut")
    parser.add_argument("--readers", type=int, default=300, help="per data set")
    parser.add_argument("--min-library", type=int, default=3)
    parser.add_argument("--max-library", type=int, default=50)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    datasets = [
        Dataset(
            "arxiv_cs_cv_cl_2025_2026.jsonl.gz",
            [p for p in arxiv_papers() if p.published],
            args.cut,
            args.days,
            "recommend",
        ),
        Dataset(
            "hf_daily_papers/items.jsonl.gz",
            [p for p in hf_daily_papers() if p.published],
            args.hf_cut,
            args.hf_days,
            "recommend-hf",
        ),
        Dataset(
            "ml_conference_papers.jsonl.gz",
            [p for p in ml_papers() if p.published],  # dated January 1 of their year
            args.ml_cut,
            args.ml_days,
            "recommend-ml",
        ),
    ]
    model = load_embedder("minilm")
    report = {
        "halves": "readers split by crc32(name) % 2; weights chosen on the arXiv tune half",
        "load_average_1min": os.getloadavg()[0],
        "datasets": [evaluate(d, CachedEmbedder(model, d.cache), args) for d in datasets],
    }
    write_json(RESULTS / "recommend.json", report)


def evaluate(data: Dataset, embedder: CachedEmbedder, args: argparse.Namespace) -> dict:
    """Every ranker on one data set's readers; the table per half and for all readers."""
    cut, end = data.cut, data.cut + dt.timedelta(days=data.days - 1)
    readers = choose_readers(data.papers, cut, end, args)
    candidates = [p for p in data.papers if cut <= p.published.date() <= end]
    corpus = {p.id: p for p in candidates}
    corpus.update((p.id, p) for r in readers for p in r.library)
    log.info(
        "%s: %d readers, %d candidates, %d papers to embed",
        data.name,
        len(readers),
        len(candidates),
        len(corpus),
    )

    started = time.perf_counter()
    embedded = embedder.warm([paper_text(p) for p in corpus.values()])
    embed_seconds = time.perf_counter() - started
    vectors = Vectors(embedder, corpus)
    cand_ids = [p.id for p in candidates]
    cand_matrix = np.stack([vectors.vectors_for([c])[c] for c in cand_ids])

    corpus_list = list(corpus.values())
    features = arxiv_sanity_features(corpus_list)
    row_of = {p.id: i for i, p in enumerate(corpus_list)}

    results: dict[str, dict[str, list[dict[str, float]]]] = defaultdict(lambda: defaultdict(list))
    feedback: dict[str, list[dict[str, float]]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp) / "bench.db", corpus_list, vectors, embedder.name)
        recommenders = {
            name: Recommender(store, vectors, model=lambda: embedder.name, options=options)
            for name, options in VARIANTS.items()
        }
        for reader in readers:
            rows = results[half(reader)]
            started = time.perf_counter()
            scores = zotero_arxiv_daily(reader, cand_matrix, vectors)
            ranked = [cand_ids[i] for i in np.argsort(-scores)[:K]]
            seconds["zotero-arxiv-daily"] += time.perf_counter() - started
            rows["zotero-arxiv-daily"].append(metrics(ranked, reader.targets))

            started = time.perf_counter()
            scores = arxiv_sanity_lite(reader, features, row_of, cand_ids)
            ranked = [cand_ids[i] for i in np.argsort(-scores)[:K]]
            seconds["arxiv-sanity-lite"] += time.perf_counter() - started
            rows["arxiv-sanity-lite"].append(metrics(ranked, reader.targets))

            for name, recommender in recommenders.items():
                started = time.perf_counter()
                ranked = paperfeed_ranking(recommender, reader, cut, end)
                seconds[name] += time.perf_counter() - started
                rows[name].append(metrics(ranked, reader.targets))
                if name in FEEDBACK_VARIANTS:
                    feedback[name].append(
                        simulate_feedback(recommender, reader, ranked, vectors, cut, end)
                    )
        store.close()
    embedder.flush()

    tables = {
        part: {name: summarise(rows) for name, rows in by_name.items()}
        for part, by_name in sorted(results.items())
    }
    tables["all"] = {
        name: summarise([*results["tune"][name], *results["report"][name]])
        for name in tables["report"]
    }
    for name, row in tables["all"].items():
        row["ms_per_reader"] = round(1000 * seconds[name] / len(readers), 2)
    report = {
        "data": data.name,
        "cut": cut.isoformat(),
        "window": [cut.isoformat(), end.isoformat()],
        "readers": {part: len(rows["paperfeed"]) for part, rows in results.items()},
        "candidates": len(candidates),
        "library_size_mean": mean(len(r.library) for r in readers),
        "targets_mean": mean(len(r.targets) for r in readers),
        "embedded_now": embedded,
        "embedding_seconds": round(embed_seconds, 1),
        "results": tables,
        "feedback": {name: feedback_summary(rows) for name, rows in feedback.items()},
    }
    for part, table in tables.items():
        for name, row in table.items():
            log.info("%-14s %-6s %-40s %s", data.name[:14], part, name, row)
    log.info("feedback: %s", report["feedback"])
    return report


def feedback_summary(rows: list[dict[str, float]]) -> dict[str, object]:
    dismissed = [f["dismissed"] for f in rows]
    return {
        "readers_who_dismissed": sum(1 for d in dismissed if d),
        "dismissed_mean": mean(dismissed),
        "before": {k: mean(f[f"before_{k}"] for f in rows) for k in ("ndcg@20", "mrr")},
        "after": {k: mean(f[f"after_{k}"] for f in rows) for k in ("ndcg@20", "mrr")},
    }


def simulate_feedback(
    recommender: Recommender,
    reader: Reader,
    ranked: list[str],
    vectors: Vectors,
    cut: dt.date,
    end: dt.date,
) -> dict[str, float]:
    """Dismiss the top-10 picks outside the reader's topics, rank again."""
    library = np.stack(list(vectors.vectors_for([p.id for p in reader.library]).values()))

    def closeness(paper_id: str) -> float:
        return float((library @ vectors.vectors_for([paper_id])[paper_id]).max())

    floor = min(closeness(t) for t in reader.targets)
    dismissed = tuple(p for p in ranked[:10] if p not in reader.targets and closeness(p) < floor)
    after = paperfeed_ranking(recommender, reader, cut, end, dismissed=dismissed)
    before_m, after_m = metrics(ranked, reader.targets), metrics(after, reader.targets)
    return {
        "dismissed": len(dismissed),
        **{f"before_{k}": before_m[k] for k in ("ndcg@20", "mrr")},
        **{f"after_{k}": after_m[k] for k in ("ndcg@20", "mrr")},
    }


if __name__ == "__main__":
    main()
