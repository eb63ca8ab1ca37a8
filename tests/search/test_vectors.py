"""VectorIndex: upsert, removal, search, persistence."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from paperfeed.search import vectors
from paperfeed.search.vectors import VectorIndex, sidecar_path

DIM = 16


def unit(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def index() -> VectorIndex:
    ix = VectorIndex(DIM, model="test")
    ix.add(np.arange(100, 150), unit(50))
    return ix


def test_search_finds_itself_first_with_cosine(index: VectorIndex) -> None:
    vecs = unit(50)
    hits = index.search(vecs[7], 5)
    assert hits[0][0] == 107 and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    expected = sorted(range(50), key=lambda i: -float(vecs[i] @ vecs[7]))[:5]
    assert [k for k, _ in hits] == [100 + i for i in expected]
    assert hits[1][1] == pytest.approx(float(vecs[expected[1]] @ vecs[7]), abs=1e-5)


def test_add_replaces_existing_key(index: VectorIndex) -> None:
    new = unit(1, seed=9)
    index.add(np.array([120, 120]), np.vstack([unit(1, seed=8), new]))
    assert len(index) == 50
    assert index.search(new[0], 1)[0][0] == 120
    assert index.search(unit(50)[20], 1)[0][0] != 120


def test_remove_and_contains(index: VectorIndex) -> None:
    assert 101 in index and 5 not in index and "101" not in index
    assert index.remove(np.array([101, 102, 999])) == 2
    assert len(index) == 48 and 101 not in index
    assert all(k != 101 for k, _ in index.search(unit(50)[1], 48))


def test_search_exclude_and_bounds(index: VectorIndex) -> None:
    q = unit(50)[3]
    hits = index.search(q, 10, exclude={103, 104})
    assert len(hits) == 10 and not {103, 104} & {k for k, _ in hits}
    assert len(index.search(q, 500)) == 50
    assert VectorIndex(DIM).search(q, 10) == []
    with pytest.raises(ValueError):
        index.add(np.array([-1]), unit(1))


def test_ann_path_recalls_nearest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "EXACT_BELOW", 10)
    ix = VectorIndex(DIM)
    data = unit(2000, seed=3)
    ix.add(np.arange(2000), data)
    found = sum(ix.search(data[i], 1)[0][0] == i for i in range(0, 2000, 20))
    assert found >= 95


def test_save_load_roundtrip_with_sidecar(tmp_path: Path, index: VectorIndex) -> None:
    path = tmp_path / "idx" / "vectors.usearch"
    index.save(synced_through="2024-05-01T00:00:00", path=path)
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["count"] == 50 and meta["dim"] == DIM and meta["model"] == "test"
    loaded = VectorIndex.load(path)
    assert loaded.synced_through == "2024-05-01T00:00:00" and len(loaded) == 50
    q = unit(50)[9]
    assert loaded.search(q, 5) == index.search(q, 5)
    loaded.add(np.array([7]), unit(1, seed=5))
    loaded.save(synced_through=42)
    assert VectorIndex.open(path, DIM, "test").synced_through == 42
    assert len(VectorIndex.open(path, DIM + 1)) == 0  # other dim: fresh index
    assert len(VectorIndex.open(tmp_path / "missing", DIM)) == 0


def test_crash_before_replace_keeps_old_index(
    tmp_path: Path, index: VectorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "vectors.usearch"
    index.save(synced_through=1, path=path)
    index.add(np.arange(1000, 1010), unit(10, seed=4))

    def crash(src: object, dst: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        index.save(synced_through=2)
    monkeypatch.undo()
    old = VectorIndex.load(path)
    assert len(old) == 50 and old.synced_through == 1 and 1000 not in old


def test_rebuild_replaces_contents(index: VectorIndex) -> None:
    index.rebuild(np.array([1, 2]), unit(2, seed=6))
    assert len(index) == 2 and 100 not in index and 1 in index
