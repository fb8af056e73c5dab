"""Exploration: does a prior by ESCO reuse level reorder the pipeline's candidates for the better?

    python benchmarks/bench_reuse_prior.py --index ESCO_INDEX \
        --prior "none:-1" --prior "transversal:1" --prior "transversal:1,cross-sector:0.5" \
        --weight 0.01 --weight 0.02 --weight 0.05 --weight 0.1

Ads ask for transversal and cross-sector skills far more often than for the occupation-specific
ones, and most ESCO skills state no reuse level at all; a prior over the levels is a
label-free signal any taxonomy with such a field carries. A prior is LEVEL:VALUE pairs
(``none`` = no level stated), or ``file:PATH`` for a ``.npy`` of one value per skill in the
index's order (e.g. ``bench_hubness.py --save``); the pipeline's ranking key (cosine + name
bonus + late-interaction term) gets ``weight x value`` added for each candidate, the reported score unchanged. The
default pipeline (lexical boost 0.2, late-interaction reranking of the top 20, default filter)
on the ESCO validation splits; weight 0 is the pipeline as shipped.

This wraps the extractor's private reranking hook rather than adding a pipeline option: it is
an experiment, and becomes a config field only if it earns one.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_prior(text: str) -> dict[str, float] | Path:
    if text.startswith("file:"):
        return Path(text[len("file:"):])
    pairs = [item.split(":") for item in text.split(",")]
    if any(len(pair) != 2 for pair in pairs):
        raise argparse.ArgumentTypeError(f"expected LEVEL:VALUE[,LEVEL:VALUE...], got {text!r}")
    return {level.strip(): float(value) for level, value in pairs}


def main() -> None:
    import numpy as np

    from skillmap.commands.options import make_extractor
    from skillmap.evaluation import PipelineRanker, evaluate, read_benchmark
    from skillmap.pipeline import Extractor

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--benchmarks", type=Path,
                        default=Path("../shared/benchmarks/skill-extraction"))
    parser.add_argument("--prior", type=parse_prior, action="append", required=True)
    parser.add_argument("--weight", type=float, action="append", required=True)
    args = parser.parse_args()

    extractor = make_extractor(index=args.index, top_k=10, min_score=-1.0, lexical_boost=0.2)
    golds = {split: read_benchmark(args.benchmarks / f"{split}_validation_annotations.csv",
                                   extractor.taxonomy) for split in ("tech", "house")}
    reranked = Extractor._rerank_scores
    added = {"prior": np.zeros(len(extractor.index.skills))}

    def with_prior(self, sentences, rows, tokens=None):
        extra = reranked(self, sentences, rows, tokens)
        return [{**bonus, **{hit: bonus.get(hit, 0.0) + added["prior"][hit]
                             for hit in candidates}} for candidates, bonus in zip(rows, extra)]

    Extractor._rerank_scores = with_prior
    print("| prior | weight | TECH RP@5 | TECH MRR | HOUSE RP@5 | HOUSE MRR |")
    print("|---|---|---|---|---|---|")
    for prior in args.prior:
        if isinstance(prior, Path):
            values = np.load(prior)
            if values.shape != (len(extractor.index.skills),):
                parser.error(f"{prior}: {values.shape} values, the index has "
                             f"{len(extractor.index.skills)} skills")
        else:
            values = np.array([prior.get(skill.reuse_level or "none", 0.0)
                               for skill in extractor.index.skills])
        for weight in [0.0, *args.weight]:
            added["prior"] = weight * values
            metrics = {split: evaluate(PipelineRanker(extractor), gold, k=10).metrics
                       for split, gold in golds.items()}
            name = (prior.name if isinstance(prior, Path) else
                    ", ".join(f"{level} {value:+g}" for level, value in prior.items()))
            print(f"| {name} | {weight:g} | {metrics['tech']['RP@5']:.3f} | "
                  f"{metrics['tech']['MRR']:.3f} | {metrics['house']['RP@5']:.3f} | "
                  f"{metrics['house']['MRR']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
