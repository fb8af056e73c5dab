"""Zero-shot design choices on the ESCO validation benchmarks: skill text, lexical boost,
per-ad aggregation. Reproduces the quality table of docs/benchmarks.md.

    python benchmarks/bench_zero_shot.py --esco ../shared/esco \
        --benchmarks ../shared/benchmarks/skill-extraction

Protocol (the benchmark README's): per sentence with at least one ESCO label, gold = union of
its labels (LABEL NOT PRESENT / UNDERSPECIFIED dropped), resolved by exact preferred label,
then case-folded label; unresolved gold labels count as misses. RP@k = hits in top k /
min(k, |gold|); MRR over the top 10. Aggregation is compared on pseudo-ads: 300 random
groups of 6 benchmark sentences (all sentences, also those without ESCO labels), gold = union;
R@10 and P@10 of the ad's top 10.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from skillmap.encoder import SkillEncoder  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402
from skillmap.pipeline import Extractor  # noqa: E402
from skillmap.taxonomy import import_esco  # noqa: E402

DROP = {"LABEL NOT PRESENT", "UNDERSPECIFIED"}


def read_benchmark(path: Path, taxonomy) -> tuple[dict[str, set[str]], int]:
    exact = {s.label: s.id for s in taxonomy.skills}
    folded = {s.label.casefold().strip(): s.id for s in taxonomy.skills}
    gold: dict[str, set[str]] = defaultdict(set)
    unresolved = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            gold[row["sentence"]]  # keep label-less sentences for pseudo-ads
            if row["label"] in DROP:
                continue
            skill_id = exact.get(row["label"]) or folded.get(row["label"].casefold().strip())
            if skill_id is None:
                unresolved += 1
                skill_id = f"unresolved:{row['label']}"
            gold[row["sentence"]].add(skill_id)
    return dict(gold), unresolved


def sentence_metrics(extractor: Extractor, gold: dict[str, set[str]]) -> dict[str, float]:
    sentences = [s for s, g in gold.items() if g]
    ranked = extractor.rank_sentences(sentences)
    skills = extractor.index.skills
    rp5, rp10, mrr = [], [], []
    for sentence, row in zip(sentences, ranked):
        g, ids = gold[sentence], [skills[p].id for p, _ in row]
        rp5.append(sum(i in g for i in ids[:5]) / min(5, len(g)))
        rp10.append(sum(i in g for i in ids[:10]) / min(10, len(g)))
        mrr.append(next((1 / r for r, i in enumerate(ids[:10], 1) if i in g), 0.0))
    return {"n": len(sentences), "RP@5": np.mean(rp5), "RP@10": np.mean(rp10),
            "MRR": np.mean(mrr)}


def pseudo_ad_metrics(extractor: Extractor, gold: dict[str, set[str]], trials: int = 300,
                      size: int = 6, seed: int = 0) -> dict[str, float]:
    sentences = list(gold)
    rng = random.Random(seed)
    recall, precision = [], []
    for _ in range(trials):
        picked = rng.sample(sentences, size)
        g = set().union(*(gold[s] for s in picked))
        if not g:
            continue
        result = extractor.extract("\n\n".join(picked))
        hits = sum(m.skill_id in g for m in result.skills[:10])
        recall.append(hits / len(g))
        precision.append(hits / 10)
    return {"R@10": np.mean(recall), "P@10": np.mean(precision)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--esco", type=Path, default=Path("../shared/esco"))
    parser.add_argument("--benchmarks", type=Path,
                        default=Path("../shared/benchmarks/skill-extraction"))
    args = parser.parse_args()

    taxonomy, _ = import_esco(args.esco)
    encoder = SkillEncoder.cached()
    files = sorted(args.benchmarks.glob("*_validation_annotations.csv"))
    golds = {}
    for path in files:
        golds[path.name.split("_")[0]], unresolved = read_benchmark(path, taxonomy)
        print(f"{path.name}: {unresolved} gold labels unresolved")

    print("\n| skill text | lexical boost | split | n | RP@5 | RP@10 | MRR | index build |")
    print("|---|---|---|---|---|---|---|---|")
    indexes = {}
    for template in ("{label}", "{label}. {description}"):
        started = time.perf_counter()
        indexes[template] = SkillIndex.build(taxonomy, encoder, text_template=template)
        build = time.perf_counter() - started
        for boost in (0.0, 0.2):
            extractor = Extractor(indexes[template], encoder, top_k=10, lexical_boost=boost)
            for split, gold in golds.items():
                m = sentence_metrics(extractor, gold)
                print(f"| `{template}` | {boost} | {split} | {m['n']} | {m['RP@5']:.3f} | "
                      f"{m['RP@10']:.3f} | {m['MRR']:.3f} | {build:.0f}s |", flush=True)

    print("\n| aggregation | lexical boost | split | R@10 | P@10 |")
    print("|---|---|---|---|---|")
    for aggregation in ("max", "interleave"):
        for boost in (0.0, 0.2):
            extractor = Extractor(indexes["{label}"], encoder, top_k=10, lexical_boost=boost,
                                  aggregation=aggregation)
            for split, gold in golds.items():
                m = pseudo_ad_metrics(extractor, gold)
                print(f"| {aggregation} | {boost} | {split} | {m['R@10']:.3f} | {m['P@10']:.3f} |",
                      flush=True)


if __name__ == "__main__":
    main()
