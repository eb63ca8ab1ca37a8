"""Query latency of keyword, dense and hybrid search at 10k / 100k / 1M papers.

Writes bench/results/search_latency.json (sizes already measured are kept, re-run ones replaced).

Corpus: real records (arXiv cs.CV/cs.CL listings, ML conference papers, CACM, CSFCube), then
variants of them with new ids (sentence order rotated, a suffix added to title and abstract) to
reach the size. Vectors: real MiniLM vectors where bench/results/cache/ has them (ML, CACM,
CSFCube texts), otherwise a real vector picked by the text's hash plus small Gaussian noise
(cosine about 0.9 to it) - the model is not run on the corpus, so build times are the store,
embedding-table and ANN costs only. Queries: real MiniLM embeddings of CACM and known-item
queries (long: 10-31 words); their model time is reported separately (query_embed_ms), and
hybrid_end_to_end_ms times hybrid search with the model embedding each query (one pass, as
the embedder remembers recent queries). short_*: the same for 20 search-box queries of 1-4
words (without end to end).

Each size runs in its own process (peak RSS is per size). Everything goes through PaperFeed.ingest
and PaperFeed.index() / PaperFeed.search(query, mode=...), on SQLite in a temporary directory.

On PostgreSQL, keyword search is also timed through PostgreSQL's own tsvector ranking (what a
node uses while its tantivy index is built), interleaved with the tantivy one: keyword_tsvector_ms.

Usage: python bench/search_latency.py [--sizes 10000,100000,1000000] [--queries 100]
       [--modes keyword,dense,hybrid]  (keyword alone: nothing is embedded, no model is run)
       [--database-url postgresql://...]  (PostgreSQL + pgvector: search_latency.postgres.json)
       [--keep DIR]  keep each size's store (DIR/<size>/, database paperfeed_latency_<size>) and,
                     when it is already complete there, only time the queries again
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
from common import (
    CACHE,
    RESULTS,
    SHORT_QUERIES,
    arxiv_papers,
    load_cacm,
    load_csfcube,
    load_known_items,
    ml_papers,
    percentile,
    text_key,
    write_json,
)
from databases import fresh_database, store_mb

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.ingest.base import Record
from paperfeed.ingest.normalize import local_id
from paperfeed.models import Paper
from paperfeed.query import parse_query
from paperfeed.search.embed import Embedder, load_embedder
from paperfeed.store import postgres_keyword

log = logging.getLogger("bench.latency")

OUT = RESULTS / "search_latency.json"
MODES = ("keyword", "dense", "hybrid")
NOISE = 0.025  # per-dimension std of the noise added to reused vectors (|noise| ~ 0.49)
LIMIT = 20  # results per query, as the search page shows
REBUILD_UP_TO = 100_000  # sizes whose ANN index is also timed rebuilt from scratch
PASSES = 2  # timed passes over the queries (after one warm-up pass)
SUFFIXES = (
    "revisited",
    "an extended study",
    "with applications",
    "a second look",
    "in practice",
    "at scale",
    "under distribution shift",
    "for low-resource settings",
    "a unified view",
    "theory and experiments",
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# -- corpus ------------------------------------------------------------------------------------


def real_papers() -> list[Paper]:
    """All real records, interleaved by source so small sizes mix them."""
    sources = [
        arxiv_papers(),
        ml_papers(),
        load_cacm().papers,
        list(load_csfcube().papers.values()),
    ]
    mixed = itertools.chain.from_iterable(itertools.zip_longest(*sources))
    return [p for p in mixed if p is not None]


def variant(paper: Paper, n: int) -> Paper:
    """The n-th (n >= 1) rewritten copy of `paper`, with a new local id."""
    suffix = SUFFIXES[n % len(SUFFIXES)]
    title = f"{paper.title}: {suffix} ({n})"
    sentences = SENTENCE_END.split(paper.abstract) if paper.abstract else []
    if sentences:
        shift = n % len(sentences)
        sentences = sentences[shift:] + sentences[:shift]
    abstract = " ".join([*sentences, f"This version studies the problem {suffix}."])
    return paper.replace(
        id=local_id(title, paper.authors),
        title=title,
        abstract=abstract,
        version=None,
        abs_url=None,
        pdf_url=None,
        source="bench-variant",
    )


def papers_of_size(real: list[Paper], size: int) -> Iterator[Paper]:
    for i in range(size):
        base = real[i % len(real)]
        yield base if i < len(real) else variant(base, i // len(real))


# -- vectors -----------------------------------------------------------------------------------


class ReusedVectors:
    """An Embedder that returns cached real vectors, or a real one plus noise, without a model.

    Query vectors are looked up from `queries` (real embeddings computed beforehand), or with
    `live` set computed by `model` as a real search would.
    """

    def __init__(self, model: Embedder, queries: dict[str, np.ndarray]) -> None:
        self.name = model.name
        self.model = model
        self.queries = queries
        self.live = False
        rows = self._cached_rows()
        if not rows:  # a clean clone: embed the CACM collection once (bench/relevance.py's cache)
            log.info(
                "no cached %s vectors in %s: running bench/relevance.py --only cacm",
                self.name,
                CACHE,
            )
            relevance = Path(__file__).with_name("relevance.py")
            subprocess.run([sys.executable, str(relevance), "--only", "cacm"], check=True)
            rows = self._cached_rows()
        if not rows:
            raise SystemExit(f"bench/relevance.py left no {self.name} vectors in {CACHE}")
        self.dim = next(iter(rows.values())).shape[0]
        self.rows = rows
        self.pool = np.stack(list(rows.values())).astype(np.float32)
        self.reused = 0

    def _cached_rows(self) -> dict[bytes, np.ndarray]:
        rows: dict[bytes, np.ndarray] = {}
        for path in sorted(CACHE.glob("*.npz")):
            if path.name.startswith(self.name.replace("/", "_").replace("@", "_") + "--"):
                data = np.load(path)
                rows.update(zip(map(bytes, data["keys"]), data["vectors"], strict=True))
        return rows

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            key = text_key(text)
            vector = self.rows.get(key)
            if vector is None:
                seed = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")
                rng = np.random.default_rng(seed)
                vector = self.pool[seed % len(self.pool)] + rng.normal(0, NOISE, self.dim)
                vector /= np.linalg.norm(vector)
                self.reused += 1
            out[i] = vector
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.embed_query(text) if self.live else self.queries[text]


def bench_queries(n: int) -> list[str]:
    cacm = list(load_cacm().queries.values())
    known = [item["query"] for item in load_known_items()]
    half = n // 2
    return cacm[:half] + known[: n - min(half, len(cacm))]


# -- one size ----------------------------------------------------------------------------------


def measure(
    size: int,
    n_queries: int,
    embedder_name: str,
    server_url: str | None = None,
    keep: Path | None = None,
    modes: tuple[str, ...] = MODES,
) -> dict:
    queries = bench_queries(n_queries)
    embed_ms: list[float] | None = None
    vectors: ReusedVectors | None = None
    if modes != ("keyword",):
        embed_ms, vectors = query_vectors(queries, embedder_name)

    real = real_papers()
    if keep:
        tmp = keep / str(size)
        tmp.mkdir(parents=True, exist_ok=True)
    else:
        tmp = Path(tempfile.mkdtemp(prefix=f"paperfeed-latency-{size}-"))
    result: dict = {"papers": size, "real_papers": min(size, len(real)), "queries": len(queries)}
    timing = Timing(modes, server_url is not None)
    try:
        with (
            fresh_database(server_url, f"paperfeed_latency_{size}", keep=bool(keep)) as url,
            PaperFeed(
                Settings(
                    data_dir=tmp, secret_key="bench", embedder=embedder_name, database_url=url
                ),
                embedder=vectors,
            ) as feed,
        ):
            built = tmp / "built.json"
            kept = json.loads(built.read_text()) if built.exists() else None
            if (  # kept and complete (with vectors, unless only keywords are timed)
                kept is not None
                and feed.store.papers.count_papers()
                and (vectors is None or "vectors" in kept)
            ):
                result.update(kept)
                started = time.perf_counter()  # papers new to the keyword index (a new engine)
                result["keyword_catch_up"] = feed.store.papers.catch_up_keyword_index()
                result["keyword_catch_up_s"] = round(time.perf_counter() - started, 1)
                if vectors is not None:
                    feed.search_index.sync()
                result.update(timing.run(feed, queries, embed_ms))
                result.update(timing.run(feed, SHORT_QUERIES, None, "short_"))
                result["load_average_1m"] = round(os.getloadavg()[0], 1)
                return result
            ingested = tmp / "ingested.json"  # a kept store resumes after its import
            if ingested.exists():
                result.update(json.loads(ingested.read_text()))
            else:
                started = time.perf_counter()
                report = feed.ingest(Record(p) for p in papers_of_size(real, size))
                result["ingest_s"] = round(time.perf_counter() - started, 1)
                result["ingest"] = report.summary()
                if keep:
                    ingested.write_text(json.dumps({k: result[k] for k in ("ingest_s", "ingest")}))
            del real
            if vectors is not None:
                result.update(build_vectors(feed, vectors, size))
            result["db_mb"] = store_mb(feed)
            if keep:
                built.write_text(json.dumps(result))
            result.update(timing.run(feed, queries, embed_ms))
            result.update(timing.run(feed, SHORT_QUERIES, None, "short_"))
            result["rss_mb"] = round(psutil.Process().memory_info().rss / 2**20)
            result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            result["load_average_1m"] = round(os.getloadavg()[0], 1)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def query_vectors(queries: list[str], embedder_name: str) -> tuple[list[float], ReusedVectors]:
    """The model's time to embed each query, and an embedder that returns their vectors."""
    model = load_embedder(embedder_name)
    model.embed_query("warm up")
    vectors, embed_ms = {}, []
    for text in queries + SHORT_QUERIES:  # what the service embeds: the natural-language part
        semantic = parse_query(text).semantic_text
        started = time.perf_counter()
        vectors[semantic] = model.embed_query(semantic)
        embed_ms.append((time.perf_counter() - started) * 1000)
    del model  # end to end, a model that has not seen (and remembered) the queries yet:
    return embed_ms[: len(queries)], ReusedVectors(load_embedder(embedder_name), vectors)


def build_vectors(feed: PaperFeed, vectors: ReusedVectors, size: int) -> dict:
    """Embed (reusing vectors) and index every paper; the times and sizes."""
    result: dict = {}
    indexer = feed.search_index
    started = time.perf_counter()
    feed.index()
    result["index_s"] = round(time.perf_counter() - started, 1)
    result["vectors"] = indexer.vector_count()
    result["vectors_real"] = result["vectors"] - vectors.reused
    if size <= REBUILD_UP_TO:  # beyond, index() above already built the ANN index once
        started = time.perf_counter()
        indexer.rebuild_index()
        result["ann_rebuild_s"] = round(time.perf_counter() - started, 1)
    ann = indexer.index_path  # none on PostgreSQL: pgvector searches in the database
    result["ann_file_mb"] = round(ann.stat().st_size / 2**20) if ann.exists() else 0
    return result


class Timing:
    """Times the searches of `modes` (on PostgreSQL also its tsvector ranking, "tsvector")."""

    def __init__(self, modes: tuple[str, ...], postgres: bool) -> None:
        self.modes = modes
        self.timed = (*modes, "keyword_tsvector") if postgres and "keyword" in modes else modes
        self.frequencies = postgres_keyword.DocumentFrequencies()

    def search(self, feed: PaperFeed, text: str, mode: str) -> int:
        query = parse_query(text, limit=LIMIT)
        if mode != "keyword_tsvector":
            return len(feed.search(query, mode=mode).hits)
        with feed.store.engine.connect() as conn:  # what a node answers while it builds
            return len(postgres_keyword.keyword_search(conn, query, LIMIT, self.frequencies))

    def run(
        self, feed: PaperFeed, queries: list[str], embed_ms: list[float] | None, prefix: str = ""
    ) -> dict:
        """p50/p95/max per mode (keys prefixed with `prefix`), and with `embed_ms` the query
        embedding times and hybrid end to end. Each search parses its text, as a request does;
        the modes take turns query by query."""
        for text in queries:  # warm-up: caches, pages of the index and the database
            for mode in self.timed:
                self.search(feed, text, mode)
        times: dict[str, list[float]] = {mode: [] for mode in self.timed}
        hits: dict[str, int] = dict.fromkeys(self.timed, 0)
        for _ in range(PASSES):
            for text in queries:
                for mode in self.timed:
                    started = time.perf_counter()
                    hits[mode] += self.search(feed, text, mode)
                    times[mode].append((time.perf_counter() - started) * 1000)
        out: dict = {}
        for mode in self.timed:
            out[f"{prefix}{mode}_ms"] = summary(times[mode])
            out[f"{prefix}{mode}_mean_hits"] = round(hits[mode] / len(times[mode]), 1)
        if embed_ms is None:
            return out
        return out | end_to_end(feed, queries, embed_ms)


def end_to_end(feed: PaperFeed, queries: list[str], embed_ms: list[float]) -> dict:
    """The query embedding times, and hybrid search with the model embedding each query."""
    out: dict = {}
    out["query_embed_ms"] = summary(embed_ms)
    embedder = feed.search_index.embedder
    assert isinstance(embedder, ReusedVectors)
    embedder.live = True  # the model embeds each query, as in a real search
    times = []
    for text in queries:  # once each: a query seen before is remembered by the embedder
        started = time.perf_counter()
        feed.search(parse_query(text, limit=LIMIT))
        times.append((time.perf_counter() - started) * 1000)
    embedder.live = False
    out["hybrid_end_to_end_ms"] = summary(times)
    return out


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "max": round(max(values), 2),
    }


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--embedder", default=Settings().embedder)
    ap.add_argument("--modes", default=",".join(MODES), help="keyword alone: no model is run")
    ap.add_argument("--database-url", help="a PostgreSQL server to measure on (default: SQLite)")
    ap.add_argument("--keep", type=Path, help="keep the stores here and reuse complete ones")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: measure one size
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.one:
        modes = tuple(m for m in MODES if m in args.modes.split(","))
        result = measure(args.one, args.queries, args.embedder, args.database_url, args.keep, modes)
        write_json(args.out, result)
        return
    out = OUT.with_suffix(".postgres.json") if args.database_url else OUT
    results = json.loads(out.read_text()) if out.exists() else {}
    results.update(machine=f"{os.cpu_count()} cores", embedder=args.embedder)
    for size in (int(s) for s in args.sizes.split(",")):
        child_out = RESULTS / f"search_latency.{size}.{os.getpid()}.json"
        command = [sys.executable, __file__, "--one", str(size), "--out", str(child_out)]
        command += ["--queries", str(args.queries), "--embedder", args.embedder]
        command += ["--modes", args.modes]
        command += ["--database-url", args.database_url] if args.database_url else []
        command += ["--keep", str(args.keep)] if args.keep else []
        subprocess.run(command, check=True)
        results[str(size)] = json.loads(child_out.read_text())
        child_out.unlink()
        write_json(out, results)
        print(json.dumps({str(size): results[str(size)]}, indent=1))


if __name__ == "__main__":
    main()
