"""The index picks its faiss structure by taxonomy size; ANN kinds round-trip and stay close
to exact search."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

from skillmap.errors import SkillmapError
from skillmap.index import SkillIndex
from skillmap.index.ann import (FLAT_MAX, HNSW_MAX, build_ann_index, choose_faiss_type,
                                index_bytes)
from skillmap.pipeline import Extractor


def clustered_vectors(n: int, dim: int = 64, centres: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(centres, dim)).astype(np.float32)
    vectors = base[rng.integers(0, centres, n)] + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def recall_at_10(index: faiss.Index, exact: faiss.Index, queries: np.ndarray) -> float:
    _, got = index.search(queries, 10)
    _, want = exact.search(queries, 10)
    return float(np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want)]))


def test_automatic_choice_by_size():
    assert choose_faiss_type(13_749) == "flat"
    assert choose_faiss_type(FLAT_MAX) == "flat"
    assert choose_faiss_type(FLAT_MAX + 1) == "hnsw"
    assert choose_faiss_type(HNSW_MAX + 1) == "ivfpq"
    assert build_ann_index(clustered_vectors(100))[1] == "flat"


@pytest.mark.parametrize("kind, min_recall", [("hnsw", 0.9), ("ivfpq", 0.5)])
@pytest.mark.slow
def test_ann_kinds_approach_exact_search(kind, min_recall):
    vectors = clustered_vectors(20_000)
    queries = clustered_vectors(200, seed=1)
    exact, _, _ = build_ann_index(vectors, "flat")
    index, built, params = build_ann_index(vectors, kind)
    assert built == kind and params
    assert recall_at_10(index, exact, queries) >= min_recall
    if kind == "ivfpq":   # compressed: a fraction of the flat index's memory
        assert index_bytes(index) < index_bytes(exact) / 3


def test_unknown_kind_is_refused():
    with pytest.raises(SkillmapError, match="unknown faiss index type 'annoy'"):
        build_ann_index(clustered_vectors(10), "annoy")


@pytest.mark.slow
def test_forced_hnsw_is_recorded_reapplied_on_load_and_codes_like_exact(
        demo_taxonomy, encoder, demo_extractor, tmp_path):
    index = SkillIndex.build(demo_taxonomy, encoder, faiss_type="hnsw")
    assert index.metadata.faiss_type == "hnsw" and index.metadata.faiss_params["efSearch"] == 128
    index.save(tmp_path / "hnsw")
    meta = json.loads((tmp_path / "hnsw" / "metadata.json").read_text())
    assert meta["faiss_type"] == "hnsw"
    meta["faiss_params"]["efSearch"] = 77
    (tmp_path / "hnsw" / "metadata.json").write_text(json.dumps(meta))
    loaded = SkillIndex.load(tmp_path / "hnsw")
    assert faiss.downcast_index(loaded.index).hnsw.efSearch == 77
    ad = "You write production code in Python and SQL and drive a forklift safely."
    got = Extractor(loaded, encoder).extract(ad)
    want = demo_extractor.extract(ad)
    assert [m.skill_id for m in got.skills] == [m.skill_id for m in want.skills]


def test_indexes_written_before_the_kind_was_recorded_still_load(demo_index, tmp_path):
    demo_index.save(tmp_path / "old")
    meta = json.loads((tmp_path / "old" / "metadata.json").read_text())
    meta["faiss_type"] = "IndexFlatIP"
    del meta["faiss_params"]
    (tmp_path / "old" / "metadata.json").write_text(json.dumps(meta))
    assert SkillIndex.load(tmp_path / "old").metadata.faiss_type == "flat"


def test_large_hnsw_indexes_search_more_candidates(monkeypatch):
    """Recall at 1M labels needed efSearch 512 (0.72 at 128): the size rule must apply it."""
    import skillmap.index.ann as ann

    vectors = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    small_index, _, small = build_ann_index(vectors, "hnsw")
    monkeypatch.setattr(ann, "HNSW_LARGE", 200)
    large_index, _, large = build_ann_index(vectors, "hnsw")
    assert small["efSearch"] == ann.HNSW_EF_SEARCH < large["efSearch"] == ann.HNSW_EF_SEARCH_LARGE
    assert faiss.downcast_index(large_index).hnsw.efSearch == ann.HNSW_EF_SEARCH_LARGE


@pytest.mark.parametrize("kind, sizes", [("flat", (1, 50, 3000)), ("hnsw", (1, 50, 3000)),
                                         ("ivfpq", (300, 3000))])
@pytest.mark.slow
def test_the_size_cap_admits_every_index_skillmap_writes(kind, sizes, tmp_path):
    from skillmap.index.ann import max_index_bytes, read_index_file

    for n in sizes:
        vectors = clustered_vectors(n, dim=32)
        index, _, params = build_ann_index(vectors, kind)
        path = tmp_path / f"{kind}-{n}.faiss"
        faiss.write_index(index, str(path))
        assert path.stat().st_size <= max_index_bytes(kind, 32, n, params)
        loaded = read_index_file(path, kind, 32, n, params)
        assert type(loaded) is type(index) and loaded.ntotal == n


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_a_file_larger_than_its_kind_can_be_never_reaches_faiss(kind, tmp_path, monkeypatch):
    from skillmap.index.ann import max_index_bytes, read_index_file

    vectors = clustered_vectors(100, dim=16)
    index, _, params = build_ann_index(vectors, kind)
    path = tmp_path / "index.faiss"
    faiss.write_index(index, str(path))
    with open(path, "ab") as handle:  # a valid index, then junk up to past the cap
        handle.write(bytes(max_index_bytes(kind, 16, 100, params) - path.stat().st_size + 1))
    monkeypatch.setattr(faiss, "read_index", lambda *a: pytest.fail("faiss read the file"))
    with pytest.raises(SkillmapError, match="corrupt faiss index") as info:
        read_index_file(path, kind, 16, 100, params)
    assert "truncated or padded" in str(info.value) if kind == "flat" else "more than" in str(
        info.value)


def test_a_padded_flat_file_is_refused_after_faiss_reads_it(tmp_path):
    from skillmap.index.ann import read_index_file

    index, _, params = build_ann_index(clustered_vectors(100, dim=16), "flat")
    path = tmp_path / "index.faiss"
    faiss.write_index(index, str(path))
    with open(path, "ab") as handle:
        handle.write(b"\0" * 10)  # faiss ignores bytes after the index
    with pytest.raises(SkillmapError, match="truncated or padded"):
        read_index_file(path, "flat", 16, 100, params)
