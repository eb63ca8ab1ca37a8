"""Embedding settings compared on speed and dense-only retrieval quality, side by side in one
run (bench/results/embedders.json).

Speed: documents/s over real abstracts (ml_conference_papers), and query p50/p95.
Quality (settings marked "quality" only; the others change speed, not vectors):
- CACM: 64 judged queries over 3,204 docs, nDCG@10 (binary relevance), dense cosine only.
- known-item: 200 papers of ml_conference_papers; query = first sentence of the abstract (no
  title), MRR@10 over a corpus of --known-corpus papers that holds the targets. "contained": the
  target is indexed with its full abstract; "held_out": indexed without that first sentence.
- cosine to the float32 vectors of the same texts (min and mean).

The settings: float32 / bfloat16 / dynamic int8 (torch) at 256 and 128 word pieces; length-sorted
vs arrival-order batching; batch size; 1 vs all threads. `--device cuda` adds the GPU figures
(papers/s for --gpu-docs abstracts) when torch sees one.

Usage: python bench/embedders.py [--settings a,b,...] [--known-corpus 4000] [--speed-docs 1000]
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.search.embed import (
    MiniLMEmbedder,
    cpu_has_native_bf16,
    document_text,
    load_embedder,
    normalize_rows,
)

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


def load_known_items(
    n: int = 200, corpus_size: int | None = None
) -> tuple[list[str], list[tuple[int, str, str]]]:
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
    texts = [document_text(t, a) for t, a in corpus]
    if corpus_size is None or corpus_size >= len(texts):
        return texts, items
    # a smaller corpus that keeps every target: the targets, then a fixed sample of the rest
    targets = {i for i, _, _ in items}
    others = [i for i in range(len(texts)) if i not in targets]
    keep = sorted(targets | set(random.Random(1).sample(others, corpus_size - len(targets))))
    position = {old: new for new, old in enumerate(keep)}
    return [texts[i] for i in keep], [(position[i], q, h) for i, q, h in items]


class ArrivalOrderEmbedder(MiniLMEmbedder):
    """Batches in the order texts arrive (no length sorting): what sorting saves."""

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            out[start : start + self.batch_size] = self._encode(
                texts[start : start + self.batch_size]
            )
        return normalize_rows(out)


class DynamicInt8Embedder(MiniLMEmbedder):
    """torch dynamic int8 quantisation of every Linear layer."""

    def _load(self) -> Any:
        import torch

        model = super()._load()
        if not getattr(self, "_quantised", False):
            self._model = torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
            self._quantised = True
        return self._model


@dataclass(frozen=True)
class Setting:
    name: str
    make: Callable[[], MiniLMEmbedder]
    quality: bool  # changes the vectors: measure retrieval quality too


SETTINGS = [
    Setting("float32-256", lambda: MiniLMEmbedder(precision="float32"), True),
    Setting("bfloat16-256", lambda: MiniLMEmbedder(precision="bfloat16"), True),
    Setting("int8-256", lambda: DynamicInt8Embedder(precision="float32"), True),
    Setting("float32-128", lambda: MiniLMEmbedder(128, precision="float32"), True),
    Setting("bfloat16-128", lambda: MiniLMEmbedder(128, precision="bfloat16"), True),
    Setting("float32-256-unsorted", lambda: ArrivalOrderEmbedder(precision="float32"), False),
    Setting("float32-256-1-thread", lambda: MiniLMEmbedder(threads=1, precision="float32"), False),
    Setting(
        "bfloat16-256-batch-64", lambda: MiniLMEmbedder(batch_size=64, precision="bfloat16"), False
    ),
]
GPU_SETTING = Setting("cuda-float16-256", lambda: MiniLMEmbedder(device="cuda"), True)
BASELINE = "float32-256"


def measure(
    setting: Setting, cacm, known, speed_texts: list[str], reference: np.ndarray | None
) -> tuple[dict, np.ndarray]:
    embedder = setting.make()
    started = time.perf_counter()
    embedder.embed_query("load")
    res: dict = {"load_s": round(time.perf_counter() - started, 2)}
    res["load_avg_1m"] = round(os.getloadavg()[0], 1)
    started = time.perf_counter()
    vectors = embedder.embed_documents(speed_texts)
    res["docs_per_s"] = round(len(speed_texts) / (time.perf_counter() - started), 1)
    if reference is not None:
        cosines = (vectors * reference).sum(axis=1)
        res["cosine_to_float32_min"] = round(float(cosines.min()), 5)
        res["cosine_to_float32_mean"] = round(float(cosines.mean()), 5)
    ids, texts, queries, qrels = cacm
    query_ms = []
    for text in queries.values():
        started = time.perf_counter()
        embedder._embed_query(text)  # not the remembered-query cache
        query_ms.append((time.perf_counter() - started) * 1000)
    res["query_ms_p50"] = round(statistics.median(query_ms), 2)
    res["query_ms_p95"] = round(float(np.percentile(query_ms, 95)), 2)
    if not setting.quality:
        return res, vectors
    doc_vecs = embedder.embed_documents(texts)
    scores = []
    for qid, qtext in queries.items():
        top = np.argsort(-(doc_vecs @ embedder.embed_query(qtext)))[:10]
        scores.append(ndcg_at_10([ids[i] for i in top], qrels[qid]))
    res["cacm_ndcg10"] = round(float(np.mean(scores)), 4)
    corpus, items = known
    vecs = embedder.embed_documents(corpus)
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
    return res, vectors


def main() -> None:
    ap = argparse.ArgumentParser()
    names = [s.name for s in SETTINGS]
    ap.add_argument("--settings", default=",".join(names), help=f"from {names}")
    ap.add_argument("--known-corpus", type=int, default=2000, help="known-item corpus size")
    ap.add_argument("--speed-docs", type=int, default=600, help="abstracts timed per setting")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = ap.parse_args()
    wanted = args.settings.split(",")
    settings = [s for s in SETTINGS if s.name in wanted]
    if args.device == "cuda":
        settings.append(GPU_SETTING)
    if BASELINE not in [s.name for s in settings]:
        settings.insert(0, next(s for s in SETTINGS if s.name == BASELINE))
    cacm = load_cacm()
    known = load_known_items(corpus_size=args.known_corpus)
    speed_texts = random.Random(2).sample(known[0], min(args.speed_docs, len(known[0])))
    results: dict = {
        "machine": f"{os.cpu_count()} cores",
        "native_bfloat16": cpu_has_native_bf16(),
        "known_item_corpus": len(known[0]),
        "speed_docs": len(speed_texts),
        "settings": {},
    }
    reference = None
    for setting in settings:
        res, vectors = measure(setting, cacm, known, speed_texts, reference)
        if setting.name == BASELINE:
            reference = vectors
        print(setting.name, res, flush=True)
        results["settings"][setting.name] = res
    base = results["settings"][BASELINE]
    results["vs_float32_256"] = {
        name: {
            "docs_per_s_x": round(res["docs_per_s"] / base["docs_per_s"], 2),
            "cacm_ndcg10_points": (
                round(100 * (res["cacm_ndcg10"] - base["cacm_ndcg10"]), 2)
                if "cacm_ndcg10" in res
                else None
            ),
            "known_item_held_out_points": (
                round(
                    100 * (res["known_item_mrr10_held_out"] - base["known_item_mrr10_held_out"]), 2
                )
                if "known_item_mrr10_held_out" in res
                else None
            ),
        }
        for name, res in results["settings"].items()
    }
    results["default"] = load_embedder().name + " at PAPERFEED_DEVICE=auto, EMBED_PRECISION=auto"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["vs_float32_256"], indent=2))


if __name__ == "__main__":
    main()
