"""Million-label taxonomies: build time, memory, latency and recall@10 of each faiss kind.

    python benchmarks/bench_ann.py --index indexes/esco --sizes 100000 1000000

Encoding a million skill descriptions takes hours on a CPU, and no public taxonomy that
large ships here, so the label vectors are synthetic but shaped like real ones: every ESCO
skill vector of ``--index`` plus perturbed copies of them (``v + noise``, renormalised, cosine
~0.86 to their source), i.e. dense clusters of near-synonyms around real skills — the hard
case for approximate search. Queries are real: the job-ad sentences of the ESCO validation
benchmarks (tech + house), encoded with the index's own model.

For each size and kind (``flat`` = exact, the reference; ``hnsw``; ``ivfpq``; see
:mod:`skillmap.index.ann`) the script reports build seconds, index size in MB (serialised,
≈ memory), resident memory added by the build, batch throughput (ms per query over all
queries at once), single-query latency (median of one-at-a-time searches) and recall@10
against the exact top 10. Output: a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from skillmap.encoder import SkillEncoder  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402
from skillmap.index.ann import apply_search_params, build_ann_index, index_bytes  # noqa: E402

BENCH = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks" / "skill-extraction"
# search-time knob tried on each built index (the first value is the index's default)
SWEEP = {"hnsw": ("efSearch", [128, 256, 512]), "ivfpq": ("nprobe", [32, 64, 128])}
NOISE = 0.6   # norm of the perturbation of a unit vector: cosine to the source ~ 1/sqrt(1.36)


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def synthetic_labels(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = np.empty((n, base.shape[1]), dtype=np.float32)
    vectors[: len(base)] = base
    step = 100_000
    for start in range(len(base), n, step):
        stop = min(start + step, n)
        source = base[rng.integers(0, len(base), stop - start)]
        noise = rng.normal(scale=NOISE / np.sqrt(base.shape[1]),
                           size=source.shape).astype(np.float32)
        block = source + noise
        vectors[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return vectors


def queries(encoder: SkillEncoder, limit: int) -> np.ndarray:
    sentences = []
    for name in ("tech_validation_annotations.csv", "house_validation_annotations.csv"):
        frame = pd.read_csv(BENCH / name, dtype=str, keep_default_na=False)
        sentences += frame["sentence"].drop_duplicates().tolist()
    sentences = list(dict.fromkeys(sentences))[:limit]
    return encoder.encode(sentences)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="an ESCO index folder")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--kinds", nargs="+", default=["flat", "hnsw", "ivfpq"])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--single", type=int, default=200, help="one-at-a-time queries timed")
    args = parser.parse_args()

    esco = SkillIndex.load(args.index)
    base = esco.vectors
    query = queries(SkillEncoder.cached(esco.metadata.model_id), args.queries)
    print(f"{len(query)} real query sentences; {faiss.omp_get_max_threads()} faiss threads; "
          f"base: {len(base):,} ESCO skill vectors ({base.shape[1]} dims)\n")
    print("| labels | kind | build s | index MB | RSS added MB | batch ms/query | "
          "single-query ms (median) | recall@10 vs exact |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        labels = synthetic_labels(base, size)
        exact_top = None
        for kind in args.kinds:
            before = rss_mb()
            started = time.perf_counter()
            index, built, params = build_ann_index(labels, kind)
            build = time.perf_counter() - started
            added = rss_mb() - before
            knob, values = SWEEP.get(built, (None, [None]))
            for value in values:
                if knob is not None:
                    params = {**params, knob: value}
                    apply_search_params(index, built, params)
                started = time.perf_counter()
                _, top = index.search(query, 10)
                batch_ms = (time.perf_counter() - started) * 1000 / len(query)
                single = []
                for row in query[: args.single]:
                    t0 = time.perf_counter()
                    index.search(row[None, :], 10)
                    single.append((time.perf_counter() - t0) * 1000)
                if built == "flat":
                    exact_top = top
                recall = (np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top, exact_top)])
                          if exact_top is not None else float("nan"))
                print(f"| {size:,} | {built} {params or ''} | {build:.1f} | "
                      f"{index_bytes(index) / 2**20:.0f} | {added:.0f} | {batch_ms:.3f} | "
                      f"{np.median(single):.2f} | {recall:.3f} |", flush=True)
            del index
        del labels


if __name__ == "__main__":
    main()
