"""ANN libraries on random L2-normalised 384-d vectors; JSON to bench/results/ann_index.json.

Per library and size: build time (2 threads), memory (RSS growth), single-query latency p50/p95
at k=10 and k=100, recall@10 against exact brute force, for a few search expansions (ef).
Random vectors are a hard case for HNSW (no cluster structure): real embeddings recall better.

Usage: python bench/ann_index.py --sizes 100000,1000000 --libs usearch,hnswlib
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from pathlib import Path

import numpy as np
import psutil

DIM = 384
M = 16
EF_ADD = 128
EF_SEARCH = (32, 64, 128)
N_QUERIES = 200
OUT = Path(__file__).resolve().parents[1] / "bench" / "results" / "ann_index.json"


def random_unit(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - s), DIM), dtype=np.float32)
        out[s : s + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def exact_top(data: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Exact top-k ids per query, and the mean single-query brute-force time in ms."""
    t = time.perf_counter()
    for q in queries[:20]:
        np.argpartition(-(data @ q), k)[:k]
    per_query_ms = (time.perf_counter() - t) / 20 * 1000
    sims = np.concatenate([data[s : s + 200_000] @ queries.T for s in range(0, len(data), 200_000)])
    return np.argsort(-sims, axis=0)[:k].T, per_query_ms


def latencies(search, queries: np.ndarray, k: int) -> tuple[list[float], list[np.ndarray]]:
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        found.append(search(q, k))
        times.append((time.perf_counter() - t) * 1000)
    return times, found


def build(lib: str, data: np.ndarray):
    """Build an index; returns (search(q, k) -> ids, set_ef(ef))."""
    if lib == "usearch":
        from usearch.index import Index

        index = Index(ndim=DIM, metric="cos", dtype="f32", connectivity=M, expansion_add=EF_ADD)
        index.add(np.arange(len(data), dtype=np.uint64), data, threads=2)

        def set_ef(ef: int) -> None:
            index.expansion_search = ef

        return (lambda q, k: index.search(q, k, threads=1).keys), set_ef, index
    if lib == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="cosine", dim=DIM)
        index.init_index(max_elements=len(data), M=M, ef_construction=EF_ADD)
        index.set_num_threads(2)
        index.add_items(data, np.arange(len(data)))
        index.set_num_threads(1)
        return (lambda q, k: index.knn_query(q, k)[0][0]), index.set_ef, index
    raise ValueError(lib)


def run(lib: str, n: int) -> dict:
    data = random_unit(n, seed=1)
    queries = random_unit(N_QUERIES, seed=2)
    truth, brute_ms = exact_top(data, queries, 10)
    gc.collect()
    rss0 = psutil.Process().memory_info().rss
    t = time.perf_counter()
    search, set_ef, index = build(lib, data)
    res: dict = {
        "build_s": round(time.perf_counter() - t, 1),
        "memory_mb": round((psutil.Process().memory_info().rss - rss0) / 2**20),
        "numpy_bruteforce_ms": round(brute_ms, 2),
        "by_ef": {},
    }
    for ef in EF_SEARCH:
        set_ef(max(ef, 100))  # hnswlib needs ef >= k; usearch too for full k=100 lists
        t100, _ = latencies(search, queries, 100)
        set_ef(ef)
        t10, found = latencies(search, queries, 10)
        recall = np.mean(
            [
                len(set(map(int, f)) & set(map(int, g))) / 10
                for f, g in zip(found, truth, strict=True)
            ]
        )
        res["by_ef"][ef] = {
            "recall@10": round(float(recall), 4),
            "k10_p50_ms": round(float(np.percentile(t10, 50)), 3),
            "k10_p95_ms": round(float(np.percentile(t10, 95)), 3),
            "k100_p50_ms": round(float(np.percentile(t100, 50)), 3),
            "k100_p95_ms": round(float(np.percentile(t100, 95)), 3),
        }
    del index
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--libs", default="usearch,hnswlib")
    args = ap.parse_args()
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    results["setup"] = {"dim": DIM, "M": M, "ef_construction": EF_ADD, "cores": os.cpu_count()}
    for n in map(int, args.sizes.split(",")):
        for lib in args.libs.split(","):
            res = run(lib, n)
            print(lib, n, json.dumps(res), flush=True)
            results.setdefault(lib, {})[str(n)] = res
            OUT.parent.mkdir(parents=True, exist_ok=True)
            OUT.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
