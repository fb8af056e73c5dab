"""Pseudo-relevance feedback: does moving a sentence's vector towards its own top skills help?

    python benchmarks/bench_prf.py --index ESCO_INDEX [--model MODEL] \
        --k 3 5 10 --beta 0.25 0.5 1.0

Dense retrieval's version of Rocchio feedback: the sentence's vector q is replaced by
q + beta x (the mean of its k highest-scoring skill vectors), renormalised, and every skill
is ranked again against it. No second encoding, no labels: one more matrix product per
sentence, so it would cost the default pipeline nothing measurable. The feedback is taken
from the ranking the pipeline would use (cosine plus the name bonus at that boost), so a
skill the sentence names pulls the query towards its own neighbourhood.

Ranks all skills (exact) for the ESCO validation sentences, without and with the lexical
boost, no reranking. Output: Markdown on stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from exact_ranking import (  # noqa: E402
    SPLITS, add_ranking_arguments, load_index_and_encoder,
    print_header, print_rows, read_split)


def with_feedback(queries: np.ndarray, skills: np.ndarray, bonus: np.ndarray, k: int,
                  beta: float) -> np.ndarray:
    """Cosines of every skill against each query moved towards its top ``k`` skills (ranked
    by cosine + ``bonus``)."""
    first = queries @ skills.T + bonus
    top = np.argpartition(-first, k, axis=1)[:, :k]
    moved = queries + beta * skills[top].mean(axis=1)
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    return moved @ skills.T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_ranking_arguments(parser)
    parser.add_argument("--k", nargs="+", type=int, default=[3, 5, 10])
    parser.add_argument("--beta", nargs="+", type=float, default=[0.25, 0.5, 1.0])
    args = parser.parse_args()
    index, encoder = load_index_and_encoder(args)
    vectors = np.asarray(index.vectors, np.float32)

    splits = [read_split(args.shared, part, index) for part in SPLITS]
    queries = {split.name: encoder.encode(split.texts) for split in splits}
    for boost in args.boosts:  # the feedback comes from the ranking at the boost it is read at
        print(f"\nlexical boost {boost}:\n")
        print_header([boost])
        for split in splits:
            q = queries[split.name]
            variants = {"cosine (the index)": q @ vectors.T}
            for k in args.k:
                for beta in args.beta:
                    variants[f"feedback k {k}, beta {beta}"] = with_feedback(
                        q, vectors, boost * split.named, k, beta)
            print_rows(split, variants, index.skills, [boost])


if __name__ == "__main__":
    main()
