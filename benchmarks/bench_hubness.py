"""Hub skills: does a per-skill penalty for being close to every ad line help ranking?

    python benchmarks/bench_hubness.py --index ESCO_INDEX [--model MODEL] \
        --postings ../shared/benchmarks/skillspan/train_postings.jsonl \
        --shared ../shared/benchmarks --k 10 50 --beta 0.25 0.5 1.0

In a nearest-neighbour search some items ("hubs") come near the top for most queries
whatever they say: here broad skills such as *communication* or *English*. Cross-domain
similarity local scaling (CSLS) corrects for it by scoring a query against a skill with the
cosine minus the skill's mean cosine to its ``k`` nearest reference queries; the query's
own term is the same for every skill and leaves its ranking alone. The reference queries
need no labels: here every line of the unlabelled real postings (``train_postings.jsonl``)
of four words or more. The penalty is one number per skill, so it could live in the index
at no cost in speed.

Ranks all skills (exact) for the ESCO validation sentences by ``cosine - beta x hubness``,
without and with the lexical boost, no reranking. Output: Markdown on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from exact_ranking import (  # noqa: E402
    SPLITS, add_ranking_arguments, load_index_and_encoder,
    print_header, print_rows, read_split)


def reference_lines(path: Path, min_words: int = 4) -> list[str]:
    """Every distinct posting line of at least ``min_words`` words."""
    lines: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for row in handle:
            lines.update(line.strip() for line in json.loads(row)["lines"]
                         if len(line.split()) >= min_words)
    return sorted(lines)


def hubness(skills: np.ndarray, references: np.ndarray, k: int) -> np.ndarray:
    """Mean cosine of each skill to its ``k`` nearest reference lines."""
    out = np.empty(len(skills), np.float32)
    for start in range(0, len(skills), 2048):
        block = skills[start:start + 2048] @ references.T
        out[start:start + 2048] = -np.sort(-block, axis=1)[:, :k].mean(axis=1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_ranking_arguments(parser)
    parser.add_argument("--postings", type=Path,
                        default=Path("../shared/benchmarks/skillspan/train_postings.jsonl"))
    parser.add_argument("--k", nargs="+", type=int, default=[10, 50])
    parser.add_argument("--beta", nargs="+", type=float, default=[0.25, 0.5, 1.0])
    parser.add_argument("--save", type=Path,
                        help="write each k's per-skill hubness to SAVE-k<K>.npy (index order), "
                             "for bench_reuse_prior.py --prior file:PATH")
    args = parser.parse_args()
    index, encoder = load_index_and_encoder(args)
    skills = index.skills
    lines = reference_lines(args.postings)
    references = encoder.encode(lines, show_progress=True)
    penalties = {k: hubness(index.vectors, references, k) for k in args.k}
    print(f"{len(lines):,} reference lines\n")
    for k, values in penalties.items():
        if args.save:
            np.save(f"{args.save}-k{k}.npy", values)
        top = np.argsort(-values)[:8]
        print(f"k {k}: the largest hubness: "
              + ", ".join(f"{skills[j].label} {values[j]:.2f}" for j in top) + "\n")

    print_header(args.boosts)
    for part in SPLITS:
        split = read_split(args.shared, part, index)
        cosine = encoder.encode(split.texts) @ index.vectors.T
        variants = {"cosine (the index)": cosine}
        for k, values in penalties.items():
            for beta in args.beta:
                variants[f"cosine - {beta} x hubness(k {k})"] = cosine - beta * values
        print_rows(split, variants, skills, args.boosts)


if __name__ == "__main__":
    main()
