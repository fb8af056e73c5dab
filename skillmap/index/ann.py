"""Which faiss index holds the skill vectors: exact for taxonomies like ESCO, ANN for huge ones.

ESCO has 13,749 skills: exact inner-product search (``flat``) over them takes well under a
millisecond per sentence, so it is the choice up to :data:`FLAT_MAX` labels. Beyond that an
exact scan grows linearly with the taxonomy, and two faiss structures take over:

- ``hnsw`` (``IndexHNSWFlat``): a navigable small-world graph over the full vectors; near-exact
  recall and millisecond queries, at the cost of the full vectors plus the graph in memory and
  a slow build. Chosen up to :data:`HNSW_MAX` labels.
- ``ivfpq`` (``IndexIVFPQ``): vectors clustered into inverted lists and compressed by product
  quantisation to one byte per :data:`PQ_DIMS_PER_BYTE` dimensions (192 bytes for 384-dim
  vectors instead of 1,536); a fraction of the memory and a fast build, with lower recall and
  approximate scores. Chosen above :data:`HNSW_MAX`.

The kind and its parameters are recorded in the index metadata and re-applied on load (faiss
does not serialise every search-time parameter); ``skillmap index build --faiss-type`` and
:func:`build_ann_index` override the automatic choice. docs/benchmarks.md measures build
time, memory, latency and recall@10 of each against exact search.
"""

from __future__ import annotations

import math
import os

import faiss
import numpy as np

from skillmap.errors import IndexMismatchError, SkillmapError, exception_line

FAISS_TYPES = ("auto", "flat", "hnsw", "ivfpq")
FLAT_MAX = 50_000
HNSW_MAX = 2_000_000

HNSW_M = 32               # graph degree
HNSW_EF_CONSTRUCTION = 80
# candidates explored per query: at 128, recall@10 falls as the graph grows towards a million
# labels; 512 wins much of it back there for a little latency (docs/benchmarks.md)
HNSW_EF_SEARCH = 128
HNSW_EF_SEARCH_LARGE = 512
HNSW_LARGE = 250_000
PQ_DIMS_PER_BYTE = 2      # 8-bit PQ code per 2 dimensions; coarser codes lost too much recall
IVF_NPROBE = 32
IVF_TRAIN_PER_LIST = 64   # training vectors per inverted list (faiss warns below 39)

# metadata names of indexes written before the kind was recorded
_LEGACY_NAMES = {"IndexFlatIP": "flat", "IndexHNSWFlat": "hnsw", "IndexIVFPQ": "ivfpq"}


def choose_faiss_type(n_labels: int) -> str:
    """The automatic choice for a taxonomy of ``n_labels`` skills."""
    if n_labels <= FLAT_MAX:
        return "flat"
    return "hnsw" if n_labels <= HNSW_MAX else "ivfpq"


def normalise_kind(kind: str) -> str:
    kind = _LEGACY_NAMES.get(kind, kind)
    if kind not in FAISS_TYPES:
        raise SkillmapError(f"unknown faiss index type {kind!r}; choose one of "
                            f"{', '.join(FAISS_TYPES)}")
    return kind


def build_ann_index(vectors: np.ndarray, kind: str = "auto", seed: int = 0
                    ) -> tuple[faiss.Index, str, dict]:
    """Build an inner-product index over unit ``vectors``: ``(index, kind, search params)``."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    kind = normalise_kind(kind)
    if kind == "auto":
        kind = choose_faiss_type(n)
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, kind, {}
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.add(vectors)
        params = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION,
                  "efSearch": HNSW_EF_SEARCH if n <= HNSW_LARGE else HNSW_EF_SEARCH_LARGE}
        apply_search_params(index, kind, params)
        return index, kind, params
    # ivfpq
    if dim % PQ_DIMS_PER_BYTE:
        raise SkillmapError(f"ivfpq needs a dimension divisible by {PQ_DIMS_PER_BYTE}, got {dim}")
    code_bytes = dim // PQ_DIMS_PER_BYTE
    nlist = max(1, min(int(4 * math.sqrt(n)), n // IVF_TRAIN_PER_LIST))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFPQ(quantizer, dim, nlist, code_bytes, 8, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    sample = vectors[rng.choice(n, size=min(n, nlist * IVF_TRAIN_PER_LIST + 256 * 4),
                                replace=False)]
    index.train(sample)
    index.add(vectors)
    params = {"nlist": nlist, "code_bytes": code_bytes, "nprobe": IVF_NPROBE}
    apply_search_params(index, kind, params)
    return index, kind, params


def apply_search_params(index: faiss.Index, kind: str, params: dict) -> None:
    """Re-apply the search-time parameters recorded in the metadata (after loading)."""
    kind = normalise_kind(kind)
    if kind == "hnsw" and "efSearch" in params:
        faiss.downcast_index(index).hnsw.efSearch = int(params["efSearch"])
    elif kind == "ivfpq":
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = int(params.get("nprobe", IVF_NPROBE))
        ivf.make_direct_map()   # reconstruct(): scoring a skill the sentence names


def index_bytes(index: faiss.Index) -> int:
    """Size of the serialised index: what it takes on disk and, roughly, in memory."""
    return int(faiss.serialize_index(index).nbytes)


# --------------------------------------------------------------------------- validation
# the faiss classes build_ann_index writes, by kind
INDEX_CLASSES = {"flat": faiss.IndexFlatIP, "hnsw": faiss.IndexHNSWFlat, "ivfpq": faiss.IndexIVFPQ}


def _flat_bytes(dim: int, n_vectors: int) -> int:
    """The exact size of a flat index file: faiss's own empty index plus the vectors."""
    return int(faiss.serialize_index(faiss.IndexFlatIP(dim)).nbytes) + 4 * dim * n_vectors


def max_index_bytes(kind: str, dim: int, n_vectors: int, params: dict) -> int:
    """Twice what a ``kind`` index of ``n_vectors`` x ``dim`` vectors takes, and 64 KiB: the
    largest file handed to faiss's reader. A rough bound, not a layout: the vectors, plus per
    vector an HNSW node (level, offset, ~2M+1 neighbours) or an IVF-PQ entry (code, id,
    direct-map slot), plus the IVF-PQ centroids."""
    size = _flat_bytes(dim, n_vectors)
    if kind == "hnsw":
        size += n_vectors * (12 + 4 * (2 * int(params.get("M", HNSW_M)) + 2))
    elif kind == "ivfpq":
        code_bytes = int(params.get("code_bytes", dim))
        nlist = int(params.get("nlist", n_vectors))
        size += 4 * dim * (nlist + 256) + n_vectors * (code_bytes + 16)
    return 2 * size + (64 << 10)


def read_index_file(path, kind: str, dim: int, n_vectors: int, params: dict) -> faiss.Index:
    """Read a faiss file that must hold the ``kind`` index of ``n_vectors`` x ``dim`` inner-
    product vectors the metadata describes, with faiss's own reader, and check it.

    The file's size is capped first (:func:`max_index_bytes`; a flat index has one exact
    size), then faiss parses it, then the parsed index's class, shape, metric and internal
    links are checked through faiss's Python API (:func:`check_index_structure`). Messages
    name no path (the caller adds it): :class:`IndexMismatchError` for a valid index of
    another kind, shape or metric, :class:`SkillmapError` for a file that is none.
    """
    kind = normalise_kind(kind)
    size = os.path.getsize(path)
    exact = _flat_bytes(dim, n_vectors) if kind == "flat" else None
    wrong_size = (f"corrupt faiss index ({size} bytes where {n_vectors} x {dim} vectors take "
                  f"{exact}: truncated or padded)")
    if size > max_index_bytes(kind, dim, n_vectors, params):
        raise SkillmapError(wrong_size if exact else
                            f"corrupt faiss index ({size} bytes: more than a {kind} index of "
                            f"{n_vectors} x {dim} vectors takes)")
    try:
        index = faiss.read_index(str(path))  # as its own class (IndexHNSWFlat, ...)
    except (RuntimeError, MemoryError) as exc:
        raise SkillmapError(wrong_size if exact is not None and size != exact else
                            f"corrupt faiss index ({exception_line(exc)})") from None
    found = next((k for k, cls in INDEX_CLASSES.items() if type(index) is cls), None)
    if found is None:
        raise SkillmapError(f"corrupt faiss index (a {type(index).__name__}, not a faiss index "
                            "of a kind skillmap writes)")
    if found != kind:
        raise IndexMismatchError(f"the file holds a {found} index, the metadata says {kind}")
    if index.d != dim or index.ntotal != n_vectors:
        raise IndexMismatchError(f"the file holds {index.ntotal} vectors of dimension "
                                 f"{index.d}, the metadata says {n_vectors} of dimension {dim}")
    if index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise IndexMismatchError(f"the index does not rank by inner product (faiss metric "
                                 f"{index.metric_type})")
    if exact is not None and size != exact:
        raise SkillmapError(wrong_size)
    check_index_structure(index, kind)
    return index


def check_index_structure(index: faiss.Index, kind: str) -> None:
    """Refuse a parsed index whose internal links point outside it (a crafted or damaged
    file that faiss reads without complaint but would follow out of bounds when searching):
    HNSW neighbour lists and levels, IVF list ids."""
    kind = normalise_kind(kind)
    n = index.ntotal
    if kind == "hnsw":
        real = faiss.downcast_index(index)
        hnsw = real.hnsw
        neighbors, offsets, levels = (_view(hnsw.neighbors), _view(hnsw.offsets),
                                      _view(hnsw.levels))  # no copies of big graphs
        per_level = faiss.vector_to_array(hnsw.cum_nneighbor_per_level)
        problems = []
        if real.storage is None or real.storage.ntotal != n or real.storage.d != index.d:
            problems.append("its vector storage does not match the graph")
        elif len(levels) != n or len(offsets) != n + 1:
            problems.append("level or offset tables of the wrong length")
        elif len(neighbors) and (neighbors.min() < -1 or neighbors.max() >= n):
            problems.append("neighbours outside the index")
        elif n and (levels.min() < 1 or levels.max() >= len(per_level)):
            problems.append("node levels out of range")
        elif n and (offsets[0] != 0 or offsets[-1] != len(neighbors)
                    or not np.array_equal(np.diff(offsets).astype(np.int64),
                                          per_level[levels].astype(np.int64))):
            problems.append("neighbour lists of the wrong size")
        elif n and not (0 <= hnsw.entry_point < n and hnsw.max_level == levels.max() - 1):
            problems.append("an entry point outside the graph")
        if problems:
            raise SkillmapError(f"corrupt HNSW index: {problems[0]}")
    elif kind == "ivfpq":
        ivf = faiss.extract_index_ivf(index)
        lists, seen = ivf.invlists, 0
        if ivf.quantizer.ntotal != ivf.nlist or ivf.quantizer.d != index.d:
            raise SkillmapError("corrupt IVF-PQ index: its coarse quantizer does not match")
        for number in range(ivf.nlist):
            size = lists.list_size(number)
            if size:
                ids = faiss.rev_swig_ptr(lists.get_ids(number), size)
                if ids.min() < 0 or ids.max() >= n:
                    raise SkillmapError("corrupt IVF-PQ index: ids outside the index")
            seen += size
        if seen != n:
            raise SkillmapError(f"corrupt IVF-PQ index: its lists hold {seen} vectors, not {n}")


def _view(vector) -> np.ndarray:
    """A faiss vector as a numpy array over its memory (no copy; empty for an empty one)."""
    size = vector.size()
    return faiss.rev_swig_ptr(vector.data(), size) if size else np.zeros(0, dtype=np.int64)
