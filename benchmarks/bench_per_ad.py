"""Per-ad skill lists on real postings: every configuration side by side, in one run.

    python benchmarks/bench_per_ad.py --esco-taxonomy TAX_DIR --work /tmp/bench-per-ad

Measured on this machine, in one process:

1. The per-ad benchmark (``skillmap eval -b dev.json --compare``) on both halves of SkillSpan
   dev (``calibration``: where settings were chosen; ``report``: not used to choose): evidence
   precision@5/@10, noise skills per ad, coverage, list length, the filter's precision and
   recall, for no filter (sentences alone, as before ad structure), the keyword/length
   heuristic, the shipped text filter, the default and the oracle.
2. Sentence-level RP@5 / MRR on the ESCO validation sets (tech, house) for the pipeline as it
   was (no filter) and the default (filter included): what the filter costs where every
   sentence states a skill.
3. Speed on whole postings (SkillSpan dev and the 140 unlabelled training postings): ads/s of
   the default against the pipeline as it was, as a ratio, encoder cache warm for both.

Output: Markdown on stdout and ``<work>/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from skillmap.encoder import SkillEncoder  # noqa: E402
from skillmap.evaluation import PipelineRanker, evaluate, read_benchmark  # noqa: E402
from skillmap.evaluation.per_ad import (evaluate_postings, split_postings,  # noqa: E402
                                        standard_systems)
from skillmap.evaluation.skillspan import read_skillspan  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402
from skillmap.pipeline import Extractor, ExtractorConfig  # noqa: E402
from skillmap.taxonomy import load_taxonomy  # noqa: E402

BEFORE = {"sentence_filter": None, "structure": False, "aggregation": "interleave",
          "min_score": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--esco-taxonomy", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-per-ad"))
    parser.add_argument("--filter", default="default", help="the filter of the default "
                        "configuration (a folder to try a candidate)")
    parser.add_argument("--speed-repeats", type=int, default=3)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    encoder = SkillEncoder.cached()
    index_dir = args.work / "esco-index"
    if (index_dir / "metadata.json").exists():
        index = SkillIndex.load(index_dir)
    else:
        index = SkillIndex.build(load_taxonomy(args.esco_taxonomy), encoder, show_progress=True)
        index.save(index_dir)
    config = ExtractorConfig(sentence_filter=args.filter)

    def build(**changes):
        return Extractor.from_config(config.replace(**changes), encoder=encoder, index=index)

    results: dict = {"per_ad": {}, "sentence_level": {}, "speed": {}}
    postings = read_skillspan(args.shared / "skillspan" / "dev.json").postings()
    for split in ("calibration", "report"):
        half = split_postings(postings, split)
        rows = [evaluate_postings(extractor, half, name).to_dict()
                for name, extractor in standard_systems(build, half)]
        results["per_ad"][split] = {"postings": len(half), "systems": rows}
        print(f"\n### Per-ad, SkillSpan dev {split} half ({len(half)} postings)\n")
        print("| system | EP@5 | EP@10 | noise skills/ad | coverage | listed | filter P | "
              "filter R |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['system']} | {r['evidence_precision']['@5']:.3f} | "
                  f"{r['evidence_precision']['@10']:.3f} | {r['noise_skills_per_ad']:.2f} | "
                  f"{r['coverage']:.3f} | {r['list_length']:.1f} | "
                  f"{r['filter_precision']:.3f} | {r['filter_recall']:.3f} |")

    print("\n### Sentence level, ESCO validation sets\n")
    print("| system | tech RP@5 | tech MRR | house RP@5 | house MRR |")
    print("|---|---|---|---|---|")
    for name, extractor in (("before (no filter)", build(**{**BEFORE, "min_score": -1.0})),
                            ("default", build(min_score=-1.0))):
        row = {}
        for part in ("tech", "house"):
            gold = read_benchmark(args.shared / "skill-extraction" /
                                  f"{part}_validation_annotations.csv", extractor.taxonomy)
            report = evaluate(PipelineRanker(extractor, level="sentence"), gold)
            row[part] = {"RP@5": report.metrics["RP@5"], "MRR": report.metrics["MRR"]}
        results["sentence_level"][name] = row
        print(f"| {name} | {row['tech']['RP@5']:.3f} | {row['tech']['MRR']:.3f} | "
              f"{row['house']['RP@5']:.3f} | {row['house']['MRR']:.3f} |")

    texts = [p.text for p in postings]
    for line in (args.shared / "skillspan" / "train_postings.jsonl").open(encoding="utf-8"):
        texts.append("\n".join(json.loads(line)["lines"]))
    before, default = build(**BEFORE), build()
    before.extract_many(texts[:5])  # warm-up: models loaded, kernels compiled
    default.extract_many(texts[:5])
    timings = {"before (no filter)": [], "default": []}
    for _ in range(args.speed_repeats):  # interleaved, so machine load hits both alike
        for name, extractor in (("before (no filter)", before), ("default", default)):
            started = time.perf_counter()
            extractor.extract_many(texts)
            timings[name].append(time.perf_counter() - started)
    speeds = {name: len(texts) / min(seconds) for name, seconds in timings.items()}
    ratio = speeds["default"] / speeds["before (no filter)"]
    results["speed"] = {"ads": len(texts), "ads_per_second": speeds, "ratio": ratio,
                        "seconds": timings}
    print(f"\n### Speed on {len(texts)} whole postings (best of {args.speed_repeats})\n")
    print("| system | ads/s | ratio |")
    print("|---|---|---|")
    for name, speed in speeds.items():
        print(f"| {name} | {speed:.2f} | {speed / speeds['before (no filter)']:.2f} |")
    (args.work / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
