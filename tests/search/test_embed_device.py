"""Where and in what precision the embedder runs: PAPERFEED_DEVICE and PAPERFEED_EMBED_PRECISION."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from paperfeed.config import Settings, load_settings
from paperfeed.errors import Invalid, Unavailable
from paperfeed.search.embed import (
    MiniLMEmbedder,
    choose_device,
    choose_precision,
    cpu_has_native_bf16,
)

ABSTRACTS = [
    "Attention is all you need. We propose the Transformer, based solely on attention.",
    "Soil nitrogen dynamics in temperate wheat fields under drought conditions.",
    "We study diffusion models for image synthesis and show that classifier-free guidance "
    "trades diversity for fidelity across a range of benchmarks and model sizes.",
    "A survey of retrieval-augmented generation for question answering over long documents.",
]


def cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 {flags}\n\n")
    return path


def test_native_bfloat16_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    assert cpu_has_native_bf16(cpuinfo(tmp_path, "avx2 avx512f avx512_bf16"))
    assert cpu_has_native_bf16(cpuinfo(tmp_path, "avx2 amx_bf16 amx_tile"))
    assert not cpu_has_native_bf16(cpuinfo(tmp_path, "avx2 avx512f avx512bw"))
    assert not cpu_has_native_bf16(tmp_path / "missing")


def test_precision_auto_follows_the_device() -> None:
    assert choose_precision("auto", "cuda") == "float16"
    assert choose_precision("auto", "cpu") == ("bfloat16" if cpu_has_native_bf16() else "float32")
    assert choose_precision("float32", "cuda") == "float32"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_asked_for_without_a_gpu_is_a_clear_error() -> None:
    assert choose_device("auto") == "cpu"
    assert choose_device("cpu") == "cpu"
    with pytest.raises(Unavailable, match="no CUDA GPU"):
        choose_device("cuda")


def test_unknown_device_or_precision_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Invalid, match="PAPERFEED_DEVICE must be one of auto, cpu, cuda"):
        Settings(device="gpu")
    monkeypatch.setenv("PAPERFEED_EMBED_PRECISION", "int4")
    with pytest.raises(Invalid, match="PAPERFEED_EMBED_PRECISION"):
        load_settings()
    with pytest.raises(ValueError):
        MiniLMEmbedder(device="tpu")


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="no native bfloat16 on this CPU")
def test_bfloat16_vectors_match_float32_ones() -> None:
    exact = MiniLMEmbedder(precision="float32").embed_documents(ABSTRACTS)
    fast_model = MiniLMEmbedder(precision="bfloat16")
    fast = fast_model.embed_documents(ABSTRACTS)
    assert fast.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert float((exact * fast).sum(axis=1).min()) > 0.999
    assert next(fast_model._load().parameters()).dtype == torch.bfloat16
    assert fast_model.name == MiniLMEmbedder(precision="float32").name


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_the_model_uses_only_the_cpus_the_process_may_run_on() -> None:
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(allowed)})
        assert MiniLMEmbedder().threads == 1
    finally:
        os.sched_setaffinity(0, allowed)
    assert MiniLMEmbedder().threads == len(allowed)
