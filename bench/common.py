"""Shared pieces of the search benchmarks: data paths and loaders, ranking metrics, and an
embedder wrapper that caches document vectors on disk (keyed by model and corpus)."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import os
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperfeed.errors import InvalidRecord
from paperfeed.ingest.files import paper_from_dict
from paperfeed.ingest.hf_daily import read_hf_daily
from paperfeed.ingest.normalize import clean_text
from paperfeed.models import Paper
from paperfeed.search.embed import Embedder, document_text

log = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERFEED_SHARED_DIR", ROOT.parent / "shared"))
DATA = SHARED / "data"
RESULTS = ROOT / "bench" / "results"
CACHE = RESULTS / "cache"
KNOWN_ITEMS = ROOT / "bench" / "data" / "known_items.jsonl"
# What people type into a search box (2-4 words, some with operators), for load and latency.
SHORT_QUERIES = [
    "diffusion",
    "large language model reasoning",
    "video generation",
    '"reinforcement learning" agents',
    "vision transformer -survey",
    "speculative decoding",
    "retrieval augmented generation",
    "3d gaussian splatting",
    "graph neural networks",
    "contrastive learning",
    "image segmentation",
    "machine translation low-resource",
    "neural architecture search",
    "adversarial robustness",
    "federated learning privacy",
    "speech recognition",
    "knowledge distillation",
    "object detection transformer",
    "text-to-image",
    "mixture of experts",
]
CACM = DATA / "cacm_test_collection"
CSFCUBE = DATA / "csfcube"
ML_CORPUS = DATA / "ml_conference_papers.jsonl.gz"
ARXIV_CORPUS = DATA / "arxiv_cs_cv_cl_2025_2026.jsonl.gz"
HF_ITEMS = DATA / "hf_daily_papers" / "items.jsonl.gz"


# -- metrics -----------------------------------------------------------------------------------


def dcg(gains: Sequence[float], k: int, *, first_undiscounted: bool = False) -> float:
    """Discounted cumulative gain of the first `k` gains (linear gain).

    Rank i (1-based) is discounted by log2(i + 1); with `first_undiscounted` (CSFCube's
    rank_metrics ``method=0``) ranks 1 and 2 both weigh 1 and rank i >= 2 weighs 1 / log2(i).
    """
    total = 0.0
    for i, gain in enumerate(gains[:k]):
        if first_undiscounted:
            weight = 1.0 if i == 0 else 1.0 / math.log2(i + 1)
        else:
            weight = 1.0 / math.log2(i + 2)
        total += gain * weight
    return total


def ndcg(
    gains: Sequence[float],
    k: int,
    *,
    ideal: Sequence[float] | None = None,
    first_undiscounted: bool = False,
) -> float:
    """nDCG@k of a ranking's gains; `ideal`: every judged gain (default: the ranking's own)."""
    best = sorted(gains if ideal is None else ideal, reverse=True)
    ideal_dcg = dcg(best, k, first_undiscounted=first_undiscounted)
    if ideal_dcg == 0:
        return 0.0
    return dcg(gains, k, first_undiscounted=first_undiscounted) / ideal_dcg


def average_precision(ranked: Sequence[object], relevant: set[object]) -> float:
    """AP of a ranking against a relevant set; relevant items not retrieved count as misses."""
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for rank, item in enumerate(ranked, 1):
        if item in relevant:
            hits += 1
            total += hits / rank
    return total / len(relevant)


def reciprocal_rank(ranked: Sequence[object], relevant: set[object], k: int | None = None) -> float:
    """1 / rank of the first relevant item within the top `k` (all when None), else 0."""
    for rank, item in enumerate(ranked[:k] if k else ranked, 1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def recall_at(ranked: Sequence[object], relevant: set[object], k: int) -> float:
    """Share of the relevant items found in the top `k`."""
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return round(statistics.fmean(values), 4) if values else 0.0


# -- embeddings cache --------------------------------------------------------------------------


KEY_BYTES = 16


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


class CachedEmbedder:
    """An Embedder whose document vectors are kept in ``<cache>/<model>--<corpus>.npz``.

    Texts already in the cache are not embedded again. `warm()` embeds in chunks and rewrites
    the cache after each, so an interrupted warm-up keeps its progress; vectors computed through
    `embed_documents` are written by `flush()`. Queries are passed through (memoised in memory).
    """

    def __init__(self, inner: Embedder, corpus: str, cache_dir: Path = CACHE, chunk: int = 2048):
        self.inner = inner
        self._dirty = False
        self.name = inner.name
        self.dim = inner.dim
        self.chunk = chunk
        safe = self.name.replace("/", "_").replace("@", "_")
        self.path = cache_dir / f"{safe}--{corpus}.npz"
        self._keys: list[bytes] = []  # the text key of each row of _vectors
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        self._queries: dict[str, np.ndarray] = {}
        if self.path.exists():
            data = np.load(self.path)
            self._vectors = data["vectors"]
            # numpy "S" strings drop trailing NUL bytes: pad the 16-byte keys back
            self._keys = [bytes(k).ljust(KEY_BYTES, b"\0") for k in data["keys"]]
        self._rows = {key: i for i, key in enumerate(self._keys)}
        self.computed = 0

    def __len__(self) -> int:
        return len(self._rows)

    def missing(self, texts: Iterable[str]) -> list[str]:
        seen: set[bytes] = set()
        out = []
        for text in texts:
            key = text_key(text)
            if key not in self._rows and key not in seen:
                seen.add(key)
                out.append(text)
        return out

    def warm(self, texts: Sequence[str]) -> int:
        """Embed and persist every text not cached yet; returns how many were embedded."""
        todo = self.missing(texts)
        for start in range(0, len(todo), self.chunk):
            self._add(todo[start : start + self.chunk])
            self.flush()
            log.info("%s: embedded %d/%d", self.path.name, start + self.chunk, len(todo))
        return len(todo)

    def _add(self, texts: list[str]) -> None:
        vectors = self.inner.embed_documents(texts)
        base = len(self._vectors)
        self._vectors = np.concatenate([self._vectors, vectors.astype(np.float32)])
        for i, text in enumerate(texts):
            self._keys.append(text_key(text))
            self._rows[self._keys[-1]] = base + i
        self.computed += len(texts)
        self._dirty = True

    def flush(self) -> None:
        """Write the cache if it changed."""
        if not self._dirty:
            return
        self._dirty = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(self._keys, dtype=f"S{KEY_BYTES}")
        tmp = self.path.with_name(self.path.stem + ".tmp.npz")
        np.savez(tmp, keys=keys, vectors=self._vectors)
        os.replace(tmp, self.path)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Vectors of `texts`; new ones are embedded and kept in memory until `flush()`."""
        todo = self.missing(texts)
        if todo:
            self._add(todo)
        rows = [self._rows[text_key(t)] for t in texts]
        return self._vectors[rows] if rows else np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self.inner.embed_query(text)
        return self._queries[text]


# -- corpora -----------------------------------------------------------------------------------


def paper_text(paper: Paper) -> str:
    """What the search service embeds for a paper."""
    return document_text(paper.title, paper.abstract)


def read_jsonl_gz(path: Path) -> Iterable[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def ml_papers(limit: int | None = None) -> list[Paper]:
    """The ML conference corpus as Papers (local ids; the venue lands in journal_ref)."""
    out = []
    for row in read_jsonl_gz(ML_CORPUS):
        try:
            out.append(paper_from_dict(row, source="ml_conference"))
        except InvalidRecord:
            continue
        if limit and len(out) >= limit:
            break
    return out


def hf_daily_papers() -> list[Paper]:
    """The Hugging Face daily papers (arXiv ids, authors, arXiv publication dates), each once."""
    found: dict[str, Paper] = {}
    for record in read_hf_daily(HF_ITEMS):
        paper = getattr(record, "paper", None)  # skipped items have none
        if paper is not None:
            found[paper.id] = paper
    return list(found.values())


def arxiv_papers(limit: int | None = None) -> list[Paper]:
    out = []
    for row in read_jsonl_gz(ARXIV_CORPUS):
        try:
            out.append(paper_from_dict(row, source="arxiv_listing"))
        except InvalidRecord:
            continue
        if limit and len(out) >= limit:
            break
    return out


@dataclass(slots=True)
class Cacm:
    papers: list[Paper]  # ids "local:cacm-<n>"
    doc_of: dict[str, int]  # paper id -> CACM doc id
    queries: dict[int, str]  # judged queries only
    qrels: dict[int, set[int]]
    n_queries: int  # all queries, judged or not


def load_cacm() -> Cacm:
    """CACM docs as Papers (half have no abstract: kept with an empty one), judged queries."""
    papers, doc_of = [], {}
    for row in read_jsonl_gz(CACM / "cacm_docs.jsonl"):
        paper = Paper(
            id=f"local:cacm-{row['id']}",
            title=clean_text(row["title"]),
            abstract=clean_text(row.get("abstract") or ""),
            authors=[a for a in row.get("authors") or [] if a],
            journal_ref=row.get("publication"),
            source="cacm",
        )
        papers.append(paper)
        doc_of[paper.id] = int(row["id"])
    qrels: dict[int, set[int]] = {}
    for line in (CACM / "qrels.text").read_text().splitlines():
        if line.strip():
            qid, did, *_ = line.split()
            qrels.setdefault(int(qid), set()).add(int(did))
    all_queries = {int(q["id"]): q["text"] for q in read_jsonl_gz(CACM / "cacm_queries.jsonl")}
    # The queries are prose that quotes titles; in the search syntax quotes would make those
    # required phrases, so they are dropped (the words stay).
    queries = {
        q: " ".join(all_queries[q].replace('"', " ").split())
        for q in sorted(qrels)
        if q in all_queries
    }
    return Cacm(papers, doc_of, queries, qrels, len(all_queries))


@dataclass(slots=True)
class CsfCube:
    papers: dict[str, Paper]  # CSFCube paper id -> Paper (id "local:csf-<pid>")
    facets: dict[str, dict[str, dict[str, int]]]  # facet -> query pid -> cand pid -> grade 0-3
    folds: dict[str, dict[str, list[str]]]  # facet -> fold name -> ["<pid>_<facet>", ...]


def load_csfcube() -> CsfCube:
    papers = {}
    for row in read_jsonl_gz(CSFCUBE / "abstracts-csfcube-reconstructed.jsonl"):
        abstract = row["abstract"]
        abstract = " ".join(abstract) if isinstance(abstract, list) else abstract
        pid = str(row["paper_id"])
        papers[pid] = Paper(
            id=f"local:csf-{pid}",
            title=clean_text(row["title"]),
            abstract=clean_text(abstract),
            source="csfcube",
        )
    facets = {}
    for facet in ("background", "method", "result"):
        anns = json.loads((CSFCUBE / f"test-pid2anns-csfcube-{facet}.json").read_text())
        facets[facet] = {
            qpid: dict(zip(ann["cands"], ann["relevance_adju"], strict=True))
            for qpid, ann in anns.items()
        }
    return CsfCube(papers, facets, csfcube_folds())


def csfcube_folds() -> dict[str, dict[str, list[str]]]:
    """The cross-validation folds hard-coded in CSFCube's eval_scripts/ranking_eval.py."""
    import ast

    source = (CSFCUBE / "eval_scripts" / "ranking_eval.py").read_text()
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "facet2folds":
            return ast.literal_eval(node.value)
    raise ValueError("facet2folds not found in ranking_eval.py")


def load_known_items(path: Path = KNOWN_ITEMS) -> list[dict]:
    return list(read_jsonl_gz(path))


def title_key(title: str) -> str:
    return " ".join(clean_text(title).lower().split())


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
