"""Encoders on the ESCO skill-extraction validation sets: off-the-shelf vs trained, one run.

    python benchmarks/bench_encoder.py --esco-taxonomy TAX_DIR \
        --benchmarks ../shared/benchmarks/skill-extraction --work /tmp/bench-encoder \
        MODEL_DIR [MODEL_DIR ...]

For each encoder (the off-the-shelf all-MiniLM-L6-v2 first) an index over every ESCO skill
is built with `skillmap index build` (label-only skill texts unless --template; an index
folder left by an earlier run is reused with --reuse-index, and `skillmap eval` refuses it if
it was built with other weights), then `skillmap eval` runs on the tech and house validation
splits three ways: the encoder alone (lexical boost 0, no reranking), + the lexical boost
(0.2, no reranking), and the default pipeline (boost 0.2 + the default reranking).
Encoding speed: every encoder embeds the benchmark sentences (both splits, distinct) in this
process, best of --speed-repeats passes after a warm-up, reported as sentences/s and as a ratio
to the off-the-shelf model. Output: a Markdown table on stdout and <work>/results.json, then
each encoder's RP@5 minus the first one's, paired over the same sentences, with a bootstrap
interval (the splits are small: a few points between two encoders is often noise).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SPLITS = ("tech", "house")
OFF_THE_SHELF = "all-MiniLM-L6-v2"
# column -> `skillmap eval` options; the names are the keys of results.json
# the encoder alone, + the name boost, the pipeline without the label overlap (the default
# until session 48, which the earlier tables call "pipeline"), and the default pipeline
SETTINGS = {"boost0": ("--lexical-boost", "0", "--rerank", "none", "--label-overlap", "0"),
            "boost0.2": ("--lexical-boost", "0.2", "--rerank", "none", "--label-overlap", "0"),
            "no-overlap": ("--lexical-boost", "0.2", "--label-overlap", "0"),
            "default": ("--lexical-boost", "0.2")}


def cli(*args: str, capture: bool = False) -> str:
    done = subprocess.run([sys.executable, "-m", "skillmap.cli", *args], check=True,
                          capture_output=capture, text=True)
    return done.stdout if capture else ""


def benchmark_sentences(folder: Path) -> list[str]:
    import pandas as pd

    texts = pd.concat([pd.read_csv(folder / f"{split}_validation_annotations.csv")["sentence"]
                       for split in SPLITS])
    return list(dict.fromkeys(texts.dropna().astype(str)))


def encoding_speed(model: str, sentences: list[str], repeats: int) -> float:
    """Sentences per second of one encoder, best of ``repeats`` timed passes."""
    from skillmap.encoder import SkillEncoder

    encoder = SkillEncoder(model)
    encoder.encode(sentences[:64])  # warm-up: first-call allocations are not the model's speed
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        encoder.encode(sentences)
        best = min(best, time.perf_counter() - started)
    return len(sentences) / best


def accuracy(model: str, args: argparse.Namespace) -> dict:
    """Build (or, with --reuse-index, reuse) the model's ESCO index in --work and run
    `skillmap eval` on each split in each setting: ``{split}_{setting}`` -> RP@5, MRR, the
    RP@5 interval and its per-sentence values (for paired comparisons). With --reuse-index,
    measurements an earlier run saved beside a reused index are read back, not redone."""
    index = args.work / f"index-{Path(model).name}"
    saved = args.work / f"accuracy-{Path(model).name}.json"
    started = time.perf_counter()
    if args.reuse_index and (index / "metadata.json").is_file():
        if saved.is_file():
            return json.loads(saved.read_text())
    else:
        cli("index", "build", "-t", str(args.esco_taxonomy), "--out", str(index),
            "--template", args.template, "--model", model)
    row = {"build_s": round(time.perf_counter() - started)}
    for split in SPLITS:
        gold = args.benchmarks / f"{split}_validation_annotations.csv"
        for setting, options in SETTINGS.items():
            # --model: an index does not load a model folder outside it unless named
            report = json.loads(cli("eval", "--benchmark", str(gold), "--index", str(index),
                                    "--model", model, *options, "--json", capture=True))
            row[f"{split}_{setting}"] = {
                **{k: report["metrics"][k] for k in ("RP@5", "MRR")},
                "RP@5 interval": report["intervals"]["RP@5"],
                "RP@5 per item": report["item_scores"]["RP@5"]}
    saved.write_text(json.dumps(row))
    return row


def summary(row: dict) -> dict:
    """A result row without its per-sentence lists (for a one-line progress print)."""
    return {key: ({k: v for k, v in value.items() if k != "RP@5 per item"}
                  if isinstance(value, dict) else value) for key, value in row.items()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every encoder benchmark shares (taxonomy, benchmarks, work folder)."""
    parser.add_argument("--esco-taxonomy", type=Path, required=True)
    parser.add_argument("--benchmarks", type=Path,
                        default=Path("../shared/benchmarks/skill-extraction"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-encoder"))
    parser.add_argument("--template", default="{label}")
    parser.add_argument("--reuse-index", action="store_true",
                        help="keep an index folder (and its measurements) an earlier run "
                        "left in --work")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help="trained model directories")
    add_arguments(parser)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--speed-repeats", type=int, default=3)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    encoders = ([] if args.no_baseline else [OFF_THE_SHELF]) + args.models
    sentences = benchmark_sentences(args.benchmarks)
    results = []
    for model in encoders:
        name = "off-the-shelf MiniLM" if model == OFF_THE_SHELF else Path(model).name
        row = {"encoder": name, "model": model, **accuracy(model, args)}
        row["sentences_per_s"] = round(encoding_speed(model, sentences, args.speed_repeats), 1)
        results.append(row)
        print(json.dumps(summary(row)), flush=True)
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    base = results[0]["sentences_per_s"]
    print(f"\n{len(sentences)} distinct benchmark sentences encoded for the speed column; ratio "
          f"to the first row.\n\n| encoder | TECH RP@5 | TECH MRR | HOUSE RP@5 | HOUSE MRR | "
          "TECH RP@5 +boost | HOUSE RP@5 +boost | TECH RP@5 pipeline without overlap | "
          "HOUSE RP@5 pipeline without overlap | TECH RP@5 default pipeline | "
          "HOUSE RP@5 default pipeline | sentences/s | speed ratio |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in results:
        t, h = row["tech_boost0"], row["house_boost0"]
        print(f"| {row['encoder']} | {t['RP@5']:.3f} | {t['MRR']:.3f} | {h['RP@5']:.3f} | "
              f"{h['MRR']:.3f} | {row['tech_boost0.2']['RP@5']:.3f} | "
              f"{row['house_boost0.2']['RP@5']:.3f} | {row['tech_no-overlap']['RP@5']:.3f} | "
              f"{row['house_no-overlap']['RP@5']:.3f} | {row['tech_default']['RP@5']:.3f} | "
              f"{row['house_default']['RP@5']:.3f} | {row['sentences_per_s']:.0f} | "
              f"x{row['sentences_per_s'] / base:.2f} |")
    print_paired_differences(results)


def print_paired_differences(results: list[dict]) -> None:
    """Each encoder minus the first one, RP@5, paired over the same sentences: the 95 %
    bootstrap interval says whether a gap is larger than what the small splits can tell."""
    from skillmap.evaluation.uncertainty import paired_difference

    if len(results) < 2:
        return
    columns = [(split, setting) for setting in SETTINGS for split in SPLITS]
    print(f"\nRP@5 minus {results[0]['encoder']}'s, paired over the sentences (95 % "
          "bootstrap interval; * = the interval excludes 0)\n\n| encoder | "
          + " | ".join(f"{split.upper()} {setting}" for split, setting in columns)
          + " |\n|---|" + "---|" * len(columns))
    for row in results[1:]:
        cells = []
        for split, setting in columns:
            key = f"{split}_{setting}"
            cells.append(str(paired_difference(row[key]["RP@5 per item"],
                                               results[0][key]["RP@5 per item"])))
        print(f"| {row['encoder']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
