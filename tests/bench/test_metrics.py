"""The benchmark metrics against hand-computed values, and the on-disk embedding cache."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.common import (
    CachedEmbedder,
    average_precision,
    dcg,
    ndcg,
    recall_at,
    reciprocal_rank,
)

GAINS = [3, 2, 3, 0, 0, 1, 2, 2, 3, 0]  # the example of CSFCube's rank_metrics.py


def test_dcg_log2_rank_plus_one_discount() -> None:
    assert dcg(GAINS, 1) == 3.0
    assert dcg(GAINS, 2) == pytest.approx(3 + 2 / math.log2(3))  # 4.26186
    assert dcg([1, 1, 1], 3) == pytest.approx(1 + 1 / math.log2(3) + 1 / math.log2(4))


def test_dcg_first_undiscounted_matches_csfcube_method_0() -> None:
    assert dcg(GAINS, 2, first_undiscounted=True) == 5.0
    assert dcg(GAINS, 10, first_undiscounted=True) == pytest.approx(9.6051177391888114)
    assert dcg(GAINS, 11, first_undiscounted=True) == pytest.approx(9.6051177391888114)


def test_ndcg_graded_as_in_csfcube() -> None:
    assert ndcg([2, 1, 2, 0], 4, first_undiscounted=True) == pytest.approx(0.9203032077642922)
    assert ndcg([2, 1, 2, 0], 4) == pytest.approx(0.96519546960144276)
    assert ndcg([3, 2, 1], 3) == 1.0
    assert ndcg([0, 0], 2) == 0.0


def test_ndcg_ideal_from_all_judgments() -> None:
    # one of two relevant documents retrieved, at rank 2; the other was never retrieved
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))  # 0.38685
    assert ndcg([0, 1], 10, ideal=[1, 1]) == pytest.approx(expected)
    assert ndcg([0, 1], 10) == pytest.approx(1 / math.log2(3))  # own gains as the ideal


def test_average_precision_counts_unretrieved_relevant_as_misses() -> None:
    assert average_precision(["a", "b", "c", "d"], {"a", "c", "e"}) == pytest.approx(
        (1 / 1 + 2 / 3) / 3
    )
    assert average_precision(["x", "y"], {"a"}) == 0.0
    assert average_precision(["a"], set()) == 0.0


def test_reciprocal_rank_and_cutoff() -> None:
    assert reciprocal_rank(["x", "y", "a"], {"a"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x", "y", "a"], {"a"}, k=2) == 0.0
    assert reciprocal_rank(["a", "a"], {"a"}, k=10) == 1.0


def test_recall_at_k() -> None:
    assert recall_at(["a", "b", "c", "d"], {"a", "c", "e"}, 3) == pytest.approx(2 / 3)
    assert recall_at(["a", "b", "c", "d"], {"a", "c", "e"}, 1) == pytest.approx(1 / 3)


class CountingEmbedder:
    name = "fake@1"
    dim = 3

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.array([len(text), 0.0, 1.0], dtype=np.float32)


def test_cached_embedder_embeds_each_text_once_across_runs(tmp_path) -> None:
    inner = CountingEmbedder()
    cache = CachedEmbedder(inner, "corpus", cache_dir=tmp_path, chunk=2)
    first = cache.embed_documents(["aa", "b", "aa", "cccc", "dd"])
    assert inner.embedded == ["aa", "b", "cccc", "dd"]
    assert first[:, 0].tolist() == [2, 1, 2, 4, 2]
    assert CachedEmbedder(inner, "corpus", cache_dir=tmp_path).missing(["aa"]) == ["aa"]
    cache.flush()

    again = CachedEmbedder(inner, "corpus", cache_dir=tmp_path)
    second = again.embed_documents(["dd", "aa", "eee"])
    assert inner.embedded[4:] == ["eee"]
    assert second[:, 0].tolist() == [2, 2, 3]
    assert CachedEmbedder(inner, "other", cache_dir=tmp_path).missing(["aa"]) == ["aa"]


def test_cached_embedder_warm_persists_each_chunk(tmp_path) -> None:
    inner = CountingEmbedder()
    assert CachedEmbedder(inner, "c", cache_dir=tmp_path, chunk=2).warm(["a", "bb", "a", "c"]) == 3
    reopened = CachedEmbedder(inner, "c", cache_dir=tmp_path)
    assert len(reopened) == 3
    assert reopened.warm(["bb", "c"]) == 0
    assert inner.embedded == ["a", "bb", "c"]


def test_cached_embedder_keeps_keys_ending_in_nul_bytes(tmp_path, monkeypatch) -> None:
    import bench.common as common

    monkeypatch.setattr(common, "text_key", lambda text: text.encode().ljust(16, b"\0"))
    inner = CountingEmbedder()
    CachedEmbedder(inner, "c", cache_dir=tmp_path).warm(["ab", "abc"])
    for _ in range(2):
        reopened = CachedEmbedder(inner, "c", cache_dir=tmp_path)
        assert reopened.missing(["ab", "abc"]) == []
        assert reopened.embed_documents(["abc", "x"])[:, 0].tolist() == [3, 1]
        reopened.flush()
    assert inner.embedded == ["ab", "abc", "x"]
