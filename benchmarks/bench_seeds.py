"""Training recipes compared over several seeds each, on the ESCO validation splits.

    python benchmarks/bench_seeds.py --esco-taxonomy TAX_DIR --work /tmp/bench-encoder \
        "shipped=skillmap/encoder/default" \
        "template=m-tpl-s0.bundle,m-tpl-s1.bundle,m-tpl-s2.bundle" \
        "template + LLM=m-llm-s0.bundle,m-llm-s1.bundle,m-llm-s2.bundle"

A recipe is NAME=MODEL[,MODEL...]: the same training command run with different --seed.
Each model is measured as in bench_encoder.py (its index in --work, three settings per
split). Printed: each recipe's mean RP@5 over its seeds with the spread between seeds (sd),
then each recipe minus the first (or --reference), paired over the sentences on
seed-averaged per-sentence RP@5, with a 95 % bootstrap interval. The two tell different
things: the sd is how much a rebuild of the recipe moves (training noise), the interval how
much the small splits can separate two recipes (benchmark noise). Results also in <work>/seeds.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_encoder import SETTINGS, SPLITS, accuracy, add_arguments  # noqa: E402


def parse_recipe(text: str) -> tuple[str, list[str]]:
    name, sep, models = text.partition("=")
    if not sep or not name.strip() or not models.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=MODEL[,MODEL...], got {text!r}")
    return name.strip(), [m for m in models.split(",") if m]


def main() -> None:
    from skillmap.evaluation.uncertainty import paired_difference

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipes", nargs="+", type=parse_recipe, help="NAME=MODEL[,MODEL...]")
    add_arguments(parser)
    parser.add_argument("--reference", help="recipe the paired differences are taken "
                        "against [default: the first]")
    args = parser.parse_args()
    names = [name for name, _ in args.recipes]
    if args.reference is not None and args.reference not in names:
        parser.error(f"--reference {args.reference!r} is none of the recipes: {names}")
    args.work.mkdir(parents=True, exist_ok=True)
    columns = [f"{split}_{setting}" for setting in SETTINGS for split in SPLITS]
    results = []
    for name, models in args.recipes:
        rows = [accuracy(model, args) for model in models]
        recipe = {"recipe": name, "models": models, "columns": {}}
        for column in columns:
            values = [row[column]["RP@5"] for row in rows]
            items = [row[column]["RP@5 per item"] for row in rows]
            recipe["columns"][column] = {
                "RP@5 per seed": values, "mean": statistics.fmean(values),
                "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
                "per item": [statistics.fmean(v) for v in zip(*items)]}
        results.append(recipe)
        print(json.dumps({"recipe": name, **{c: recipe["columns"][c]["RP@5 per seed"]
                                             for c in columns}}), flush=True)
    (args.work / "seeds.json").write_text(json.dumps(results, indent=2))
    header = " | ".join(c.replace("_", " ").upper().replace("BOOST0.2", "+ boost")
                        .replace("BOOST0", "alone").replace("NO-OVERLAP", "no overlap")
                        .replace("DEFAULT", "pipeline")
                        for c in columns)
    print(f"\nRP@5, mean over seeds (sd between seeds)\n\n| recipe | seeds | {header} |\n"
          "|---|---|" + "---|" * len(columns))
    for recipe in results:
        cells = [f"{recipe['columns'][c]['mean']:.3f} ({recipe['columns'][c]['sd']:.3f})"
                 for c in columns]
        print(f"| {recipe['recipe']} | {len(recipe['models'])} | " + " | ".join(cells) + " |")
    first = results[names.index(args.reference) if args.reference else 0]
    print(f"\nRP@5 minus {first['recipe']}'s, paired over the sentences on seed-averaged "
          f"scores (95 % bootstrap interval; * = excludes 0)\n\n| recipe | {header} |\n"
          "|---|" + "---|" * len(columns))
    for recipe in (r for r in results if r is not first):
        cells = []
        for c in columns:
            cells.append(str(paired_difference(recipe["columns"][c]["per item"],
                                               first["columns"][c]["per item"])))
        print(f"| {recipe['recipe']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
