"""Embedders: the real packaged MiniLM, loaded once for the module."""

from __future__ import annotations

import numpy as np
import pytest

from paperfeed.search.embed import Embedder, MiniLMEmbedder, document_text, load_embedder

TEXTS = [
    "Attention is all you need. We propose the Transformer, based solely on attention.",
    "A transformer architecture built on self-attention for machine translation.",
    "Soil nitrogen dynamics in temperate wheat fields under drought conditions.",
]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder(max_seq_length=128, precision="float32")


def test_document_text_joins_title_and_abstract() -> None:
    assert document_text("Deep  Nets", " We study\nnets. ") == "Deep Nets. We study nets."
    assert document_text("Why nets?", "Because.") == "Why nets? Because."
    assert document_text("Only title", None) == "Only title"
    assert document_text("", "Only abstract") == "Only abstract"


def test_load_embedder_names() -> None:
    assert load_embedder().max_seq_length == 256
    assert load_embedder("minilm-128").max_seq_length == 128
    with pytest.raises(ValueError):
        load_embedder("nope")


def test_minilm_vectors_normalised_and_deterministic(minilm: MiniLMEmbedder) -> None:
    assert isinstance(minilm, Embedder)
    docs = minilm.embed_documents(TEXTS)
    assert docs.shape == (3, minilm.dim) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    # same result whatever the batch composition and order
    again = minilm.embed_documents(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(docs, again, atol=1e-5)
    query = minilm.embed_query(TEXTS[2])
    assert query.shape == (minilm.dim,)
    np.testing.assert_allclose(query, docs[2], atol=1e-5)
    assert minilm.embed_documents([]).shape == (0, minilm.dim)


def test_minilm_similar_texts_score_higher(minilm: MiniLMEmbedder) -> None:
    docs = minilm.embed_documents(TEXTS)
    query = minilm.embed_query("self-attention neural translation model")
    sims = docs @ query
    assert docs[0] @ docs[1] > docs[0] @ docs[2]
    assert min(sims[0], sims[1]) > sims[2]


def test_a_repeated_query_is_embedded_once(
    minilm: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = minilm.embed_query("speculative decoding for large language models")
    encoded: list[list[str]] = []
    encode = minilm._encode
    monkeypatch.setattr(minilm, "_encode", lambda texts: encoded.append(texts) or encode(texts))
    again = minilm.embed_query("speculative decoding for large language models")
    again[:] = 0.0  # callers get their own copy
    assert encoded == []
    np.testing.assert_array_equal(
        minilm.embed_query("speculative decoding for large language models"), first
    )
    minilm.embed_query("a query not seen before")
    assert encoded == [["a query not seen before"]]
