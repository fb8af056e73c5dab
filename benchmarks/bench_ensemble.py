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
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from skillmap.encoder import SkillEncoder  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from exact_ranking import SPLITS, print_header, print_rows, read_split  # noqa: E402


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

    print_header(args.boosts)
    for part in SPLITS:
        split = read_split(args.shared, part, indexes[0])
        first, second = (encoder.encode(split.texts) @ index.vectors.T
                         for encoder, index in zip(encoders, indexes))
        variants = {"A alone": first, "B alone": second}
        for w in args.weight:
            variants[f"{1 - w:g} x A + {w:g} x B"] = (1 - w) * first + w * second
        print_rows(split, variants, skills, args.boosts)


if __name__ == "__main__":
    main()
