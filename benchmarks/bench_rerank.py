"""The late-interaction rerank stage against the pipeline without it, in one run.

    python benchmarks/bench_rerank.py --index ESCO_INDEX --shared ../shared/benchmarks

1. Sentence level, ESCO validation sets (tech, house): RP@5 and MRR of the pipeline (no
   filter: every benchmark sentence states a skill) without and with ``--rerank
   late-interaction``, over a grid of temperature x weight x candidates (``--temperatures
   trained`` uses the scorer trained with the model, ``train encoder --late-interaction``;
   the choice is made here, on validation data, as the issue asks).
2. Speed: searched segments/s of the pipeline without and with the reranker at each
   ``--candidates`` count, on the whole SkillSpan dev postings (no filter, so every content
   sentence is reranked), interleaved, best of three.
3. Per-ad lists (SkillSpan dev, both halves) with the default pipeline + the reranker at the
   first temperature, weight and candidates given.

``--model`` names the encoder when the index records a model folder outside it.

Output: Markdown on stdout and ``--out`` JSON.
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
from skillmap.evaluation.per_ad import evaluate_postings, split_postings  # noqa: E402
from skillmap.evaluation.skillspan import read_skillspan  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402
from skillmap.pipeline import Extractor, ExtractorConfig  # noqa: E402


def temperature(text: str) -> float | None:
    return None if text == "trained" else float(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-rerank.json"))
    parser.add_argument("--model", help="encoder to load [the model the index records]")
    parser.add_argument("--temperatures", nargs="+", type=temperature, default=[0.05, 0.1, 0.2],
                        help="scorer temperatures; 'trained': the model's trained scorer")
    parser.add_argument("--weights", nargs="+", type=float, default=[0.25, 0.5, 1.0])
    parser.add_argument("--candidates", nargs="+", type=int, default=[100],
                        help="faiss candidates reranked per sentence")
    parser.add_argument("--skip-sentence-level", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-per-ad", action="store_true")
    args = parser.parse_args()
    index = SkillIndex.load(args.index)
    encoder = SkillEncoder.cached(args.model or index.recorded_model())
    grid = [(t, w, n) for t in args.temperatures for w in args.weights for n in args.candidates]
    chosen = {"rerank": "late-interaction", "rerank_temperature": grid[0][0],
              "rerank_weight": grid[0][1], "rerank_candidates": grid[0][2]}

    def build(**changes):
        return Extractor.from_config(ExtractorConfig(**changes), encoder=encoder, index=index)

    golds = {part: read_benchmark(args.shared / "skill-extraction" /
                                  f"{part}_validation_annotations.csv", index.taxonomy)
             for part in ("tech", "house")}
    results: dict = {"sentence_level": {}, "speed": {}, "per_ad": {}}
    print("| reranker | temperature | weight | candidates | tech RP@5 | tech MRR | house RP@5 "
          "| house MRR |")
    print("|---|---|---|---|---|---|---|---|")
    for setting in [] if args.skip_sentence_level else [None] + grid:
        options = {"rerank": "none"} if setting is None else {"rerank": "late-interaction",
                                              "rerank_temperature": setting[0],
                                              "rerank_weight": setting[1],
                                              "rerank_candidates": setting[2]}
        extractor = build(sentence_filter=None, min_score=-1.0, **options)
        row = {part: evaluate(PipelineRanker(extractor, level="sentence"), gold).metrics
               for part, gold in golds.items()}
        name = "none" if setting is None else f"late-interaction {setting}"
        results["sentence_level"][name] = {p: {"RP@5": m["RP@5"], "MRR": m["MRR"]}
                                           for p, m in row.items()}
        t, w, n = ("-", "-", "-") if setting is None else setting
        t = "trained" if t is None else t
        print(f"| {'none' if setting is None else 'late-interaction'} | {t} | {w} | {n} | "
              f"{row['tech']['RP@5']:.3f} | {row['tech']['MRR']:.3f} | "
              f"{row['house']['RP@5']:.3f} | {row['house']['MRR']:.3f} |", flush=True)

    postings = read_skillspan(args.shared / "skillspan" / "dev.json").postings()
    texts = [p.text for p in postings]
    if not args.skip_speed:
        systems = {"without": build(sentence_filter=None, rerank="none")}
        for n in args.candidates:
            systems[f"late-interaction, {n} candidates"] = build(
                sentence_filter=None, **{**chosen, "rerank_candidates": n})
        for extractor in systems.values():
            extractor.extract_many(texts[:3])  # warm-up
        timings = {name: [] for name in systems}
        for _ in range(3):  # interleaved, so machine load hits both alike
            for name, extractor in systems.items():
                started = time.perf_counter()
                extractor.extract_many(texts)
                timings[name].append(time.perf_counter() - started)
        sentences = sum(1 for text in texts for s in systems["without"].segments(text)
                        if systems["without"]._searchable(s))
        speeds = {name: sentences / min(t) for name, t in timings.items()}
        results["speed"] = {"postings": len(texts), "segments": sentences,
                            "segments_per_second": speeds}
        print(f"\nSpeed: {len(texts)} whole postings ({sentences} searched segments), no filter, "
              "best of 3:\n")
        print("| reranker | segments/s | ratio |")
        print("|---|---|---|")
        base = speeds["without"]
        for name, speed in speeds.items():
            print(f"| {name} | {speed:.1f} | {speed / base:.2f} |", flush=True)
    if args.skip_per_ad:
        args.out.write_text(json.dumps(results, indent=2))
        return

    print("\n| per-ad, SkillSpan dev | EP@5 | EP@10 | noise/ad | coverage |")
    print("|---|---|---|---|---|")
    for split in ("calibration", "report"):
        half = split_postings(postings, split)
        for name, extractor in (("default, no reranking", build(rerank="none")),
                                ("default + late-interaction", build(**chosen))):
            r = evaluate_postings(extractor, half, name)
            results["per_ad"][f"{split}: {name}"] = r.to_dict()
            print(f"| {split}: {name} | {r.evidence_precision['@5']:.3f} | "
                  f"{r.evidence_precision['@10']:.3f} | {r.noise_skills_per_ad:.2f} | "
                  f"{r.coverage:.3f} |", flush=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
