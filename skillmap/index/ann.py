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
:func:`build_ann_index` override the automatic choice. docs/benchmarks.md §8 measures build
time, memory, latency and recall@10 of each against exact search at 100k and 1M labels.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

from skillmap.errors import SkillmapError

FAISS_TYPES = ("auto", "flat", "hnsw", "ivfpq")
FLAT_MAX = 50_000
HNSW_MAX = 2_000_000

HNSW_M = 32               # graph degree
HNSW_EF_CONSTRUCTION = 80
# candidates explored per query: recall@10 at efSearch 128 was 0.968 at 100k labels but 0.720
# at 1M; 512 brings 1M to 0.882 at 1.3 ms (docs/benchmarks.md §8)
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
