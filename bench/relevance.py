"""Search quality of keyword-only, dense-only and hybrid search (bench/results/relevance.json).

- CACM: 3,204 CS abstracts (half are titles only), the judged queries; nDCG@10 (binary),
  MAP over the top 1000, recall@100. Papers are searched through SearchEngine.search.
- CSFCube: similar papers. Each query paper's candidate pool ranked by dense cosine, by BM25
  with the query paper's title and abstract as the query (restricted to the pool) and by their
  fusion; nDCG@20 with graded relevance (0-3) as CSFCube's eval_scripts (rank 1 and 2 undiscounted,
  test split = mean of its two folds).
- Known items: bench/data/known_items.jsonl, descriptions of one paper each, searched over the
  whole ML conference corpus (22k papers); MRR@10, recall@1, recall@10.

Document vectors are cached in bench/results/cache/ (model + corpus), so re-runs only embed
queries. `--tune` sweeps the fusion (RRF k, keyword weight) and BM25 column weights on the tune
halves of CACM and the known items and reports the held-out halves too.

Usage: python bench/relevance.py [--only cacm,csfcube,known] [--tune]
       [--database-url postgresql://...]  (on PostgreSQL: relevance.postgres.json)
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import (
    RESULTS,
    CachedEmbedder,
    average_precision,
    load_cacm,
    load_csfcube,
    load_known_items,
    mean,
    ml_papers,
    ndcg,
    recall_at,
    reciprocal_rank,
    title_key,
    write_json,
)
from databases import fresh_database

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.models import Paper
from paperfeed.query import STOPWORDS, Query, parse_query
from paperfeed.search import hybrid
from paperfeed.search.embed import load_embedder
from paperfeed.search.engine import SearchEngine
from paperfeed.store import tantivy_keyword

log = logging.getLogger("bench.relevance")

OUT = RESULTS / "relevance.json"
TUNE_OUT = RESULTS / "relevance_tune.json"
MODES = ("keyword", "dense", "hybrid")
PAGE = 100
CACM_DEPTH = 1000
KNOWN_DEPTH = 10
FUSION_DEPTH = 200  # what the service fuses (KEYWORD_DEPTH / DENSE_DEPTH)


@dataclass
class Corpus:
    feed: PaperFeed
    service: SearchEngine
    embedder: CachedEmbedder
    build_s: float


@contextmanager
def corpus(
    name: str,
    papers: Iterable[Paper],
    embedder_name: str,
    *,
    embed: bool = True,
    server_url: str | None = None,
):
    """A fresh PaperFeed holding `papers`, embedded (through the cache) and indexed, on SQLite
    or in a fresh database on the PostgreSQL server at `server_url`.

    Without `embed` nothing is embedded: only keyword search has results."""
    tmp = Path(tempfile.mkdtemp(prefix=f"paperfeed-bench-{name}-"))
    stack = ExitStack()
    url = stack.enter_context(fresh_database(server_url, f"paperfeed_relevance_{name}"))
    settings = Settings(data_dir=tmp, secret_key="bench", embedder=embedder_name, database_url=url)
    embedder = CachedEmbedder(load_embedder(embedder_name), name)
    feed = PaperFeed(settings, embedder=embedder)
    try:
        started = time.perf_counter()
        report = feed.ingest(Record(p) for p in papers)
        service = feed.search_engine
        if embed:
            feed.index()
            embedder.flush()
        built = time.perf_counter() - started
        log.info(
            "%s: %s; %d embedded now, %d from cache, %.0fs",
            name,
            report.summary(),
            embedder.computed,
            len(embedder) - embedder.computed,
            built,
        )
        yield Corpus(feed, service, embedder, built)
    finally:
        feed.close()
        stack.close()
        shutil.rmtree(tmp, ignore_errors=True)


def ranking(service: SearchEngine, text: str, mode: str, depth: int) -> list[Paper]:
    """The first `depth` papers the service returns for `text` in `mode`."""
    out: list[Paper] = []
    while len(out) < depth:
        limit = min(PAGE, depth - len(out))
        query = parse_query(text, limit=limit, offset=len(out))
        hits = service.search(query, mode=mode).hits
        out.extend(hit.paper for hit in hits)
        if len(hits) < limit:
            break
    return out


# -- CACM --------------------------------------------------------------------------------------


def cacm_scores(rankings: dict[int, list[int]], qrels: dict[int, set[int]]) -> dict[str, float]:
    ndcgs, aps, recalls = [], [], []
    for qid, ranked in rankings.items():
        relevant = qrels[qid]
        gains = [1.0 if d in relevant else 0.0 for d in ranked]
        ndcgs.append(ndcg(gains, 10, ideal=[1.0] * len(relevant)))
        aps.append(average_precision(ranked, relevant))
        recalls.append(recall_at(ranked, relevant, 100))
    return {"ndcg@10": mean(ndcgs), "map@1000": mean(aps), "recall@100": mean(recalls)}


def run_cacm(embedder_name: str, server_url: str | None = None) -> dict:
    data = load_cacm()
    with corpus("cacm", data.papers, embedder_name, server_url=server_url) as c:
        result: dict = {
            "docs": len(data.papers),
            "docs_without_abstract": sum(not p.abstract for p in data.papers),
            "queries": data.n_queries,
            "judged_queries": len(data.queries),
            "build_s": round(c.build_s, 1),
        }
        for mode in MODES:
            rankings = {
                qid: [data.doc_of[p.id] for p in ranking(c.service, text, mode, CACM_DEPTH)]
                for qid, text in data.queries.items()
            }
            result[mode] = cacm_scores(rankings, data.qrels)
    return result


# -- CSFCube -----------------------------------------------------------------------------------


def text_terms(text: str) -> list[str]:
    """Distinct non-stopword words of `text`, in order (the BM25 query of a query paper)."""
    words = re.findall(r"\w+", text.lower())
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and len(w) > 1))


def csf_keyword(service: SearchEngine, paper: Paper, pool_keys: Sequence[int]) -> list[int]:
    """Pool keys by BM25 (collection statistics) of the paper's title + abstract words."""
    terms = text_terms(f"{paper.title} {paper.abstract}")
    query = Query(raw=paper.title, terms=terms)
    scored = service.store.papers.keyword_search(query, limit=100_000)
    pool = set(pool_keys)
    ranked = [key for key, _ in scored if key in pool]
    seen = set(ranked)
    return ranked + sorted(k for k in pool_keys if k not in seen)


def csf_dense(
    vectors: dict[int, np.ndarray], query_key: int, pool_keys: Sequence[int]
) -> list[int]:
    q = vectors[query_key]
    sims = {k: float(vectors[k] @ q) for k in pool_keys}
    return sorted(pool_keys, key=lambda k: (-sims[k], k))


def fuse(
    keyword: Sequence[int], dense: Sequence[int], k: float, keyword_weight: float
) -> list[int]:
    fused = hybrid.reciprocal_rank_fusion(
        keyword, dense, k=k, keyword_weight=keyword_weight, dense_weight=1.0
    )
    return [f.key for f in fused]


def csf_ndcg20(ranked: Sequence[int], grades: dict[int, int]) -> float:
    gains = [grades[k] for k in ranked]
    return ndcg(gains, 20, first_undiscounted=True)


def run_csfcube(
    embedder_name: str, fusion: tuple[float, float], server_url: str | None = None
) -> dict:
    data = load_csfcube()
    with corpus("csfcube", data.papers.values(), embedder_name, server_url=server_url) as c:
        key_of = c.service.store.papers.paper_keys([p.id for p in data.papers.values()])
        pid_key = {pid: key_of[p.id] for pid, p in data.papers.items()}
        vectors_by_id = c.service.vectors_for(list(key_of))
        vectors = {key_of[pid]: v for pid, v in vectors_by_id.items()}
        per_query: dict[str, dict[str, float]] = {mode: {} for mode in MODES}
        missing = 0
        for facet, queries in data.facets.items():
            for qpid, cands in queries.items():
                present = {pid: g for pid, g in cands.items() if pid in pid_key}
                missing += len(cands) - len(present)
                grades = {pid_key[pid]: g for pid, g in present.items()}
                pool = sorted(grades)
                kw = csf_keyword(c.service, data.papers[qpid], pool)
                dn = csf_dense(vectors, pid_key[qpid], pool)
                hy = fuse(kw, dn, *fusion)
                for mode, ranked in zip(MODES, (kw, dn, hy), strict=True):
                    per_query[mode][f"{qpid}_{facet}"] = csf_ndcg20(ranked, grades)
        result: dict = {
            "papers": len(data.papers),
            "queries": sum(len(q) for q in data.facets.values()),
            "unjudgeable_candidates": missing,
            "fusion": {"rrf_k": fusion[0], "keyword_weight": fusion[1]},
        }
        for mode in MODES:
            result[mode] = {
                facet: csf_split_mean(per_query[mode], data.folds[facet])
                for facet in ("background", "method", "result", "all")
            }
    return result


def csf_split_mean(scores: dict[str, float], folds: dict[str, list[str]]) -> float:
    """CSFCube's "test" aggregate: the mean of the two test folds' means."""
    return mean(mean(scores[q] for q in folds[f]) for f in ("fold1_test", "fold2_test"))


# -- known items -------------------------------------------------------------------------------


def known_scores(items: Sequence[dict], rankings: Sequence[list[str]]) -> dict[str, float]:
    rrs, r1, r10 = [], [], []
    for item, titles in zip(items, rankings, strict=True):
        target = {title_key(item["title"])}
        rrs.append(reciprocal_rank(titles, target, 10))
        r1.append(recall_at(titles, target, 1))
        r10.append(recall_at(titles, target, 10))
    return {"mrr@10": mean(rrs), "recall@1": mean(r1), "recall@10": mean(r10), "n": len(items)}


def run_known(
    embedder_name: str, modes: Sequence[str] = MODES, server_url: str | None = None
) -> dict:
    items = load_known_items()
    papers = ml_papers()
    embed = modes != ("keyword",)
    with corpus("ml", papers, embedder_name, embed=embed, server_url=server_url) as c:
        titles = {title_key(p.title) for p in papers}
        absent = [i["title"] for i in items if title_key(i["title"]) not in titles]
        result: dict = {"papers": c.feed.stats().get("papers", len(papers)), "queries": len(items)}
        if absent:
            result["targets_not_in_corpus"] = absent
        for mode in modes:
            ranked = [
                [title_key(p.title) for p in ranking(c.service, i["query"], mode, KNOWN_DEPTH)]
                for i in items
            ]
            scores = {"all": known_scores(items, ranked)}
            for field, value in (("kind", "sampled"), ("kind", "well-known")):
                idx = [n for n, i in enumerate(items) if i.get(field) == value]
                scores[value] = known_scores([items[n] for n in idx], [ranked[n] for n in idx])
            result[mode] = scores
    return result


# -- tuning ------------------------------------------------------------------------------------

RRF_KS = (5, 10, 20, 30, 60, 100)
KEYWORD_WEIGHTS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
BM25_GRID = (1, 2, 3)  # times the title is repeated in the text BM25 scores


@dataclass
class TuneSet:
    """Per-query keyword and dense candidate lists, and a scorer of one ranking per query."""

    name: str
    queries: list[str]
    split: list[str]  # "tune" / "test" per query
    score: Callable[[int, list[int]], float]  # (query index, ranked keys) -> metric
    keyword: list[list[int]]
    dense: list[list[int]]


def keys_of(service: SearchEngine, papers: Sequence[Paper]) -> list[int]:
    found = service.store.papers.paper_keys([p.id for p in papers])
    return [found[p.id] for p in papers]


def candidate_lists(service: SearchEngine, texts: Sequence[str], depth: int) -> tuple[list, list]:
    keyword = [keys_of(service, ranking(service, t, "keyword", depth)) for t in texts]
    dense = [keys_of(service, ranking(service, t, "dense", depth)) for t in texts]
    return keyword, dense


def split_means(ts: TuneSet, rankings: Sequence[list[int]]) -> dict[str, float]:
    scores = [ts.score(i, r) for i, r in enumerate(rankings)]
    return {
        part: mean(s for s, p in zip(scores, ts.split, strict=True) if p == part)
        for part in ("tune", "test")
    }


def sweep_fusion(sets: Sequence[TuneSet]) -> list[dict]:
    rows = []
    for k, weight in itertools.product(RRF_KS, KEYWORD_WEIGHTS):
        row: dict = {"rrf_k": k, "keyword_weight": weight}
        for ts in sets:
            fused = [
                fuse(kw[:FUSION_DEPTH], dn[:FUSION_DEPTH], k, weight)
                for kw, dn in zip(ts.keyword, ts.dense, strict=True)
            ]
            row[ts.name] = split_means(ts, fused)
        row["objective_tune"] = mean(row[ts.name]["tune"] for ts in sets)
        row["objective_test"] = mean(row[ts.name]["test"] for ts in sets)
        rows.append(row)
    return sorted(rows, key=lambda r: -r["objective_tune"])


def sweep_bm25(service_sets: Sequence[tuple[SearchEngine, TuneSet, int]]) -> list[dict]:
    rows = []
    default = tantivy_keyword.TITLE_REPEAT
    try:
        for weights in BM25_GRID:
            tantivy_keyword.TITLE_REPEAT = weights
            row: dict = {"title_repeat": weights}
            for service, ts, depth in service_sets:
                service.store.ranking.sync(rebuild=True)
                ranked = [
                    keys_of(service, ranking(service, q, "keyword", depth)) for q in ts.queries
                ]
                row[ts.name] = split_means(ts, ranked)
            row["objective_tune"] = mean(row[ts.name]["tune"] for _, ts, _ in service_sets)
            row["objective_test"] = mean(row[ts.name]["test"] for _, ts, _ in service_sets)
            rows.append(row)
    finally:
        tantivy_keyword.TITLE_REPEAT = default
        for service, _, _ in service_sets:
            service.store.ranking.sync(rebuild=True)
    return sorted(rows, key=lambda r: -r["objective_tune"])


def cacm_tune_set(stack: ExitStack, embedder_name: str) -> tuple[SearchEngine, TuneSet]:
    cacm = load_cacm()
    c = stack.enter_context(corpus("cacm", cacm.papers, embedder_name))
    keys = c.service.store.papers.paper_keys(list(cacm.doc_of))
    doc_by_key = {key: cacm.doc_of[pid] for pid, key in keys.items()}
    qids = list(cacm.queries)

    def score(i: int, ranked: list[int]) -> float:
        relevant = cacm.qrels[qids[i]]
        gains = [1.0 if doc_by_key[k] in relevant else 0.0 for k in ranked]
        return ndcg(gains, 10, ideal=[1.0] * len(relevant))

    texts = list(cacm.queries.values())
    kw, dn = candidate_lists(c.service, texts, FUSION_DEPTH)
    split = ["tune" if q % 2 else "test" for q in qids]
    return c.service, TuneSet("cacm_ndcg@10", texts, split, score, kw, dn)


def known_tune_set(stack: ExitStack, embedder_name: str) -> tuple[SearchEngine, TuneSet]:
    items = load_known_items()
    papers = ml_papers()
    c = stack.enter_context(corpus("ml", papers, embedder_name))
    ids_by_title: dict[str, list[str]] = {}
    for paper in papers:
        ids_by_title.setdefault(title_key(paper.title), []).append(paper.id)
    targets = [
        set(c.service.store.papers.paper_keys(ids_by_title.get(title_key(i["title"]), [])).values())
        for i in items
    ]

    def score(i: int, ranked: list[int]) -> float:
        return reciprocal_rank(ranked, targets[i], 10)

    texts = [i["query"] for i in items]
    kw, dn = candidate_lists(c.service, texts, FUSION_DEPTH)
    split = [i["split"] for i in items]
    return c.service, TuneSet("known_mrr@10", texts, split, score, kw, dn)


def run_tune(embedder_name: str, parts: set[str]) -> dict:
    """Fusion and BM25 sweeps on the tune halves; the test halves are reported alongside."""
    current = {
        "rrf_k": hybrid.RRF_K,
        "keyword_weight": hybrid.KEYWORD_WEIGHT / hybrid.DENSE_WEIGHT,
        "title_repeat": tantivy_keyword.TITLE_REPEAT,
    }
    with ExitStack() as stack:
        built = []
        if "cacm" in parts:
            built.append(cacm_tune_set(stack, embedder_name))
        if "known" in parts:
            built.append(known_tune_set(stack, embedder_name))
        fusion = sweep_fusion([ts for _, ts in built])
        bm25 = sweep_bm25([(service, ts, 10) for service, ts in built])
    return {"current_defaults": current, "fusion": fusion, "bm25": bm25}


# -- main --------------------------------------------------------------------------------------


def print_table(result: dict) -> None:
    def cell(part: str, mode: str, *path: str) -> str:
        value = result.get(part, {}).get(mode)
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        return f"{value:10.4f}" if isinstance(value, float | int) else f"{'-':>10}"

    rows = [(f"CACM {m}", "cacm", (m,)) for m in ("ndcg@10", "map@1000", "recall@100")]
    facets = ("background", "method", "result", "all")
    rows += [(f"CSFCube nDCG@20 {f}", "csfcube", (f,)) for f in facets]
    metrics = ("mrr@10", "recall@1", "recall@10")
    rows += [(f"known-item {m}", "known_items", ("all", m)) for m in metrics]
    print(f"{'':28}" + "".join(f"{m:>10}" for m in MODES))
    for name, part, path in rows:
        if part in result:
            print(f"{name:28}" + "".join(cell(part, mode, *path) for mode in MODES))


def print_tune(tuned: dict) -> None:
    print("current defaults:", tuned["current_defaults"])
    print("fusion (best 8 by tune objective): rrf_k, keyword_weight, tune, test")
    for row in tuned["fusion"][:8]:
        print(
            f"  {row['rrf_k']:>4} {row['keyword_weight']:>5}",
            row["objective_tune"],
            row["objective_test"],
            {k: v for k, v in row.items() if isinstance(v, dict)},
        )
    print("BM25 title repeats: tune, test")
    for row in tuned["bm25"]:
        print(
            f"  {row['title_repeat']}",
            row["objective_tune"],
            row["objective_test"],
            {k: v for k, v in row.items() if isinstance(v, dict)},
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", default="cacm,csfcube,known", help="comma-separated parts to run")
    ap.add_argument("--embedder", default=Settings().embedder)
    ap.add_argument("--tune", action="store_true", help="sweep fusion and BM25 weights instead")
    ap.add_argument(
        "--keyword-only", action="store_true", help="known items: keyword search only (no model)"
    )
    ap.add_argument("--database-url", help="a PostgreSQL server to measure on (default: SQLite)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.tune:
        tuned = run_tune(args.embedder, set(args.only.split(",")))
        write_json(TUNE_OUT, tuned)
        print_tune(tuned)
        return
    parts = set(args.only.split(","))
    result: dict = {
        "embedder": args.embedder,
        "fusion": {
            "rrf_k": hybrid.RRF_K,
            "keyword_weight": hybrid.KEYWORD_WEIGHT / hybrid.DENSE_WEIGHT,
        },
        "title_repeat": tantivy_keyword.TITLE_REPEAT,
    }
    if "cacm" in parts:
        result["cacm"] = run_cacm(args.embedder, args.database_url)
    if "csfcube" in parts:
        fusion = (hybrid.RRF_K, hybrid.KEYWORD_WEIGHT / hybrid.DENSE_WEIGHT)
        result["csfcube"] = run_csfcube(args.embedder, fusion, args.database_url)
    if "known" in parts:
        modes = ("keyword",) if args.keyword_only else MODES
        result["known_items"] = run_known(args.embedder, modes, args.database_url)
    for part in ("cacm", "csfcube", "known_items"):
        if part in result:  # the settings each part was measured with
            settings = {"fusion": result["fusion"], "title_repeat": result["title_repeat"]}
            result[part]["settings"] = settings
    out = OUT.with_suffix(".postgres.json") if args.database_url else OUT
    if out.exists():  # keep the parts not re-run (read last: other runs may have written)
        previous = json.loads(out.read_text())
        kept = {k: v for k, v in previous.items() if k in ("cacm", "csfcube", "known_items")}
        result = {**kept, **result}
    write_json(out, result)
    print_table(result)


if __name__ == "__main__":
    main()
