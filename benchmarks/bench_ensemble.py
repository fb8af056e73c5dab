"""Two encoders' cosines averaged: what an ensemble of the shipped weights and a candidate gives.

    python benchmarks/bench_ensemble.py --index ESCO_INDEX_A --index ESCO_INDEX_B \
        [--model MODEL_A --model MODEL_B] --weight 0.25 0.5 0.75

The candidates of docs/benchmarks.md §5 trade HOUSE for TECH against the shipped weights
(each split prefers a different model, by a few sentences). Averaging two encoders' scores
is the usual way to keep both strengths; it costs a second encoding of every sentence and a
second index, so it could only be an "accurate" option beside the fast default. This script
measures the accuracy side only: every skill ranked (exact) for the ESCO validation sentences
by ``(1 - w) x cosine_A + w x cosine_B``, without and with the lexical boost, no reranking.
Output: Markdown on stdout.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from skillmap.encoder import SkillEncoder  # noqa: E402
from skillmap.evaluation import read_benchmark  # noqa: E402
from skillmap.evaluation.metrics import score_rankings  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, action="append", required=True,
                        help="two indexes of the same taxonomy, one per encoder")
    parser.add_argument("--model", action="append",
                        help="the encoders, in the order of --index [those the indexes record]")
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--boosts", nargs="+", type=float, default=[0.0, 0.2])
    parser.add_argument("--weight", nargs="+", type=float, default=[0.25, 0.5, 0.75])
    args = parser.parse_args()
    if len(args.index) != 2 or (args.model and len(args.model) != 2):
        parser.error("give --index twice (and --model twice or not at all)")
    indexes = [SkillIndex.load(path) for path in args.index]
    if [s.id for s in indexes[0].skills] != [s.id for s in indexes[1].skills]:
        parser.error("the two indexes hold different skills or orders")
    encoders = []
    for position, index in enumerate(indexes):
        encoder = SkillEncoder.cached(args.model[position] if args.model
                                      else index.recorded_model())
        index.check_encoder(encoder)
        encoders.append(encoder)
    skills = indexes[0].skills

    print("| split | scores | " + " | ".join(f"RP@5, boost {b}" for b in args.boosts)
          + " | " + " | ".join(f"MRR, boost {b}" for b in args.boosts) + " |")
    print("|---|---|" + "---|" * (2 * len(args.boosts)))
    for part in ("tech", "house"):
        gold = read_benchmark(args.shared / "skill-extraction" /
                              f"{part}_validation_annotations.csv", indexes[0].taxonomy)
        queries = [item.text for item in gold.items]
        golds = [set(item.gold) for item in gold.items]
        first, second = (encoder.encode(queries) @ index.vectors.T
                         for encoder, index in zip(encoders, indexes))
        named = np.zeros_like(first)
        for row, text in enumerate(queries):
            named[row, list(indexes[0].label_matcher.find(text))] = 1.0
        variants = {"A alone": first, "B alone": second}
        for w in args.weight:
            variants[f"{1 - w:g} x A + {w:g} x B"] = (1 - w) * first + w * second
        for name, scores in variants.items():
            cells = {"RP@5": [], "MRR": []}
            for boost in args.boosts:
                top = np.argsort(-(scores + boost * named), axis=1)[:, :10]
                metrics = score_rankings([[skills[j].id for j in row] for row in top], golds)
                cells["RP@5"].append(f"{metrics['RP@5']:.3f}")
                cells["MRR"].append(f"{metrics['MRR']:.3f}")
            print(f"| {part} | {name} | " + " | ".join(cells["RP@5"] + cells["MRR"]) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
