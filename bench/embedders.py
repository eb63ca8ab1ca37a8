"""Embedders compared on speed and dense-only retrieval quality (bench/results/embedders.json).

Quality:
- CACM: 64 judged queries over 3,204 docs, nDCG@10 (binary relevance), dense cosine only.
- known-item: 200 papers of ml_conference_papers; query = first sentence of the abstract (no
  title), MRR@10 over the whole deduplicated corpus. "contained": the target is indexed with its
  full abstract; "held_out": the target is indexed without that first sentence.

Usage: python bench/embedders.py [--models minilm-256,minilm-128,static-256,static-384]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import statistics
import time
from pathlib import Path

import numpy as np

from paperfeed.search.embed import MiniLMEmbedder, document_text, normalize_rows

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERFEED_SHARED_DIR", ROOT.parent / "shared"))
CACM = SHARED / "data" / "cacm_test_collection"
ML = SHARED / "data" / "ml_conference_papers.jsonl.gz"
OUT = ROOT / "bench" / "results" / "embedders.json"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def load_cacm() -> tuple[list[int], list[str], dict[int, str], dict[int, set[int]]]:
    docs = [json.loads(line) for line in (CACM / "cacm_docs.jsonl").read_text().splitlines()]
    ids = [d["id"] for d in docs]
    texts = [document_text(d["title"], d.get("abstract")) for d in docs]
    lines = (CACM / "cacm_queries.jsonl").read_text().splitlines()
    queries = {q["id"]: q["text"] for q in map(json.loads, lines)}
    qrels: dict[int, set[int]] = {}
    for line in (CACM / "qrels.text").read_text().splitlines():
        qid, did, *_ = line.split()
        qrels.setdefault(int(qid), set()).add(int(did))
    return ids, texts, {q: queries[q] for q in sorted(qrels)}, qrels


def ndcg_at_10(ranked: list[int], relevant: set[int]) -> float:
    dcg = sum(1 / np.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / np.log2(i + 2) for i in range(min(10, len(relevant))))
    return dcg / ideal


def load_known_items(n: int = 200) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Corpus texts and (target index, query, held-out target text) triples."""
    seen: set[str] = set()
    corpus: list[tuple[str, str]] = []
    with gzip.open(ML, "rt") as fh:
        for line in fh:
            p = json.loads(line)
            key = " ".join(p["title"].lower().split())
            if not p.get("abstract") or key in seen:
                continue
            seen.add(key)
            corpus.append((p["title"], " ".join(p["abstract"].split())))
    candidates = []
    for i, (title, abstract) in enumerate(corpus):
        parts = SENTENCE_END.split(abstract, maxsplit=1)
        if len(parts) == 2 and len(parts[0]) >= 40 and len(parts[1]) >= 200:
            candidates.append((i, parts[0], document_text(title, parts[1])))
    items = random.Random(0).sample(candidates, n)
    return [document_text(t, a) for t, a in corpus], items


def build_static(pca_dims: int | None) -> tuple[object, float]:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from model2vec.distill import distill

    from paperfeed.search.embed import minilm_path

    started = time.perf_counter()
    model = distill(model_name=str(minilm_path()), pca_dims=pca_dims, device="cpu")
    return model, time.perf_counter() - started


class Model2VecAdapter:
    def __init__(self, model: object, name: str) -> None:
        self.model, self.name = model, name

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return normalize_rows(self.model.encode(texts, use_multiprocessing=False))

    def embed_query(self, text: str) -> np.ndarray:
        return normalize_rows(self.model.encode([text]))[0]


def evaluate(embedder, cacm, known) -> dict:
    ids, texts, queries, qrels = cacm
    res: dict = {"load_avg_1m": round(os.getloadavg()[0], 1)}
    t = time.perf_counter()
    doc_vecs = embedder.embed_documents(texts)
    res["cacm_embed_s"] = round(time.perf_counter() - t, 2)
    q_ms, scores = [], []
    embedder.embed_query("warm up")
    for qid, qtext in queries.items():
        t = time.perf_counter()
        qv = embedder.embed_query(qtext)
        q_ms.append((time.perf_counter() - t) * 1000)
        top = np.argsort(-(doc_vecs @ qv))[:10]
        scores.append(ndcg_at_10([ids[i] for i in top], qrels[qid]))
    res["cacm_ndcg10"] = round(float(np.mean(scores)), 4)
    res["query_ms_p50"] = round(statistics.median(q_ms), 3)
    res["query_ms_p95"] = round(float(np.percentile(q_ms, 95)), 3)

    if known is None:
        sample = load_known_items()[0][:500]
        t = time.perf_counter()
        embedder.embed_documents(sample)
        res["docs_per_s"] = round(len(sample) / (time.perf_counter() - t), 1)
        return res
    corpus, items = known
    t = time.perf_counter()
    vecs = embedder.embed_documents(corpus)
    elapsed = time.perf_counter() - t
    res["ml_corpus_docs"] = len(corpus)
    res["ml_embed_s"] = round(elapsed, 2)
    res["docs_per_s"] = round(len(corpus) / elapsed, 1)
    held = embedder.embed_documents([h for _, _, h in items])
    qvecs = np.stack([embedder.embed_query(q) for _, q, _ in items])
    for variant in ("contained", "held_out"):
        rr = []
        for j, (target, _, _) in enumerate(items):
            sims = vecs @ qvecs[j]
            if variant == "held_out":
                sims[target] = float(held[j] @ qvecs[j])
            top = list(np.argsort(-sims)[:10])
            rr.append(1 / (top.index(target) + 1) if target in top else 0.0)
        res[f"known_item_mrr10_{variant}"] = round(float(np.mean(rr)), 4)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="minilm-256,minilm-128,static-256,static-384")
    ap.add_argument("--skip-known-items", action="store_true", help="speed on 500 docs only")
    args = ap.parse_args()
    cacm = load_cacm()
    known = None if args.skip_known_items else load_known_items()
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    results["machine"] = f"{os.cpu_count()} cores"
    for name in args.models.split(","):
        kind, size = name.split("-")
        extra: dict = {}
        if kind == "minilm":
            embedder = MiniLMEmbedder(max_seq_length=int(size))
            t = time.perf_counter()
            embedder.embed_query("load")
            extra["load_s"] = round(time.perf_counter() - t, 2)
        else:
            pca = None if int(size) == 384 else int(size)
            model, secs = build_static(pca)
            extra["distill_s"] = round(secs, 1)
            embedder = Model2VecAdapter(model, name)
        res = {**extra, **evaluate(embedder, cacm, known)}
        print(name, res, flush=True)
        results[name] = res
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
