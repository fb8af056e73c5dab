"""The encoder under torch vs ONNX Runtime (float32, int8): accuracy and speed, one process.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 python benchmarks/bench_onnx.py \
        --esco-taxonomy /tmp/esco --benchmarks ../shared/benchmarks/skill-extraction \
        --work /tmp/bench-onnx [--model default] [--variant-index] [--ads /tmp/ads_1000.csv]
    python benchmarks/bench_onnx.py --esco-taxonomy /tmp/esco --speed-only --threads 1  # speed only

(``skillmap taxonomy import-esco ../shared/esco --out /tmp/esco`` makes the taxonomy.)

Backends: torch, ONNX float32, ONNX int8 (the backbone's linear layers but its down-projections:
what ``--backend onnx-int8`` uses) and ONNX int8-all (every layer quantised).

Accuracy: one ESCO index (every skill, label-only texts, like docs/benchmarks.md §5) built with
the *torch* model; each backend encodes the benchmark sentences against it, scored by the same
code as `skillmap eval` (sentence level, top 10, shipped filter, lexical boost 0 and 0.2) on
the tech and house validation splits. ``--variant-index`` also rebuilds the index with each
ONNX variant (skill labels encoded by it too). Also reported: cosine of each backend's sentence
embeddings to torch's.

Speed: sentences/s encoding the distinct validation sentences, ``--labels`` ESCO skill labels
(the index-build workload) and, with ``--ads``, distinct sentences of job ads (what `skillmap
batch` encodes), ``--rounds`` rounds with the backends interleaved; the
ratio to torch is taken within each round and the median reported, which keeps a shared
CPU's load out of the ratios as far as possible. Output: a Markdown table on stdout and
<work>/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SPLITS = ("tech", "house")
BOOSTS = (0.0, 0.2)


def evaluate_split(index, encoder, gold_file: Path, boost: float) -> dict:
    from skillmap.evaluation import PipelineRanker, evaluate, read_benchmark
    from skillmap.pipeline import Extractor

    # no reranking: the ONNX backends have no token embeddings, so torch and ONNX are compared
    # on the same pipeline; no label overlap, which is the same for both: the encoders' gap
    extractor = Extractor(index=index, encoder=encoder, top_k=10, min_score=-1.0,
                          lexical_boost=boost, sentence_filter="default", rerank="none",
                          label_overlap=0.0)
    gold = read_benchmark(gold_file, extractor.taxonomy)
    report = evaluate(PipelineRanker(extractor, level=gold.level), gold, k=10)
    return {k: report.metrics[k] for k in ("RP@5", "RP@10", "MRR")}


def export(model: str, folder: Path, quantize: str, reference) -> tuple[Path, float | None]:
    """Export (or reuse a previous export of the same model), return (folder, seconds)."""
    import numpy as np

    from skillmap.encoder.onnx import export_onnx, is_onnx_export, read_manifest

    if is_onnx_export(folder):
        manifest = read_manifest(folder)
        same = np.dot(np.asarray(manifest["reference_probe"], dtype=np.float32), reference)
        if manifest["quantization"] == quantize and same > 0.9999:
            return folder, None
    started = time.perf_counter()
    export_onnx(model, folder, quantize=quantize, say=lambda m: print(f"  {m}", flush=True))
    return folder, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="encoder to compare (torch source)")
    parser.add_argument("--esco-taxonomy", type=Path, required=True)
    parser.add_argument("--benchmarks", type=Path,
                        default=Path("../shared/benchmarks/skill-extraction"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-onnx"))
    parser.add_argument("--template", default="{label}")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--labels", type=int, default=2000,
                        help="ESCO skill labels in the second speed workload (0: skip)")
    parser.add_argument("--ads", type=Path, help="a CSV of job ads (e.g. from "
                        "benchmarks/make_ads.py): adds a workload of their distinct sentences, "
                        "as `skillmap batch` encodes them")
    parser.add_argument("--text-column", default="description")
    parser.add_argument("--ad-sentences", type=int, default=2000,
                        help="distinct ad sentences in that workload")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--variant-index", action="store_true",
                        help="also rebuild the index with each ONNX variant")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads for torch and ONNX Runtime alike [default: "
                        "each library's own: one per core]")
    parser.add_argument("--speed-only", action="store_true", help="skip the accuracy part")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.threads:
        os.environ["SKILLMAP_ONNX_THREADS"] = str(args.threads)

    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from skillmap.encoder import SkillEncoder
    from skillmap.errors import SkillmapError
    from skillmap.evaluation import read_benchmark
    from skillmap.index import SkillIndex
    from skillmap.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(args.esco_taxonomy)
    started = time.perf_counter()
    encoders = {"torch": SkillEncoder(args.model, backend="torch")}
    load_s = {"torch": time.perf_counter() - started}
    reference = encoders["torch"].probe

    index_dir = args.work / "index-torch"
    index = None
    if args.speed_only:
        index = "not needed"
    elif (index_dir / "metadata.json").is_file():
        try:
            index = SkillIndex.load(index_dir)
            index.check_encoder(encoders["torch"])
            if index.metadata.text_template != args.template or \
                    index.metadata.taxonomy_fingerprint != taxonomy.fingerprint:
                index = None
        except SkillmapError:
            index = None
    if index is None:
        print(f"building the ESCO index with torch ({len(taxonomy.skills)} skills)", flush=True)
        started = time.perf_counter()
        index = SkillIndex.build(taxonomy, encoders["torch"], text_template=args.template)
        print(f"  {time.perf_counter() - started:.0f}s", flush=True)
        index.save(index_dir)

    export_s = {}
    for name, quantize in (("onnx fp32", "none"), ("onnx int8", "int8"),
                           ("onnx int8-all", "int8-all")):
        print(f"exporting {name}", flush=True)
        folder, export_s[name] = export(args.model, args.work / name.replace(" ", "-"),
                                        quantize, reference)
        started = time.perf_counter()
        encoders[name] = SkillEncoder(folder)
        load_s[name] = time.perf_counter() - started

    # ------------------------------------------------------------------ accuracy
    gold_files = {split: args.benchmarks / f"{split}_validation_annotations.csv"
                  for split in SPLITS}
    sentences = list(dict.fromkeys(item.text for split in SPLITS for item in
                                   read_benchmark(gold_files[split], taxonomy).items))
    torch_vectors = None if args.speed_only else encoders["torch"].encode(sentences)
    results = {}
    for name, encoder in encoders.items():
        if args.speed_only:
            break
        vectors = encoder.encode(sentences)
        cos = (vectors * torch_vectors).sum(axis=1)
        row = {"probe_cosine": float(np.dot(encoder.probe, reference)),
               "sentence_cosine_mean": float(cos.mean()), "sentence_cosine_min": float(cos.min()),
               "load_s": load_s[name], "export_s": export_s.get(name)}
        for split in SPLITS:
            for boost in BOOSTS:
                row[f"{split}_boost{boost}"] = evaluate_split(index, encoder, gold_files[split],
                                                              boost)
        if args.variant_index and name != "torch":
            started = time.perf_counter()
            own = SkillIndex.build(taxonomy, encoder, text_template=args.template)
            row["variant_index_build_s"] = time.perf_counter() - started
            for split in SPLITS:
                for boost in BOOSTS:
                    row[f"{split}_boost{boost}_own_index"] = evaluate_split(
                        own, encoder, gold_files[split], boost)
        results[name] = row
        print(json.dumps({name: row}), flush=True)

    # ------------------------------------------------------------------ speed
    workloads = {"validation sentences": sentences}
    if args.labels:
        labels = [skill.label for skill in taxonomy.skills]
        step = max(1, len(labels) // args.labels)
        workloads["ESCO labels"] = labels[::step][:args.labels]
    if args.ads:
        import pandas as pd

        from skillmap.segmentation.text import segment

        ads = pd.read_csv(args.ads)[args.text_column].fillna("").tolist()
        distinct = dict.fromkeys(s.text for ad in ads for s in segment(ad) if s.codable)
        workloads["ad sentences"] = list(distinct)[:args.ad_sentences]
    speed = {}
    for workload, texts in workloads.items():
        for encoder in encoders.values():  # warm-up
            encoder.encode(texts[:args.batch_size], batch_size=args.batch_size)
        per_round = {name: [] for name in encoders}
        for _ in range(args.rounds):
            for name, encoder in encoders.items():
                started = time.perf_counter()
                encoder.encode(texts, batch_size=args.batch_size)
                per_round[name].append(len(texts) / (time.perf_counter() - started))
        speed[workload] = {
            name: {"per_s": statistics.median(rates),
                   "ratio": statistics.median(r / t for r, t in zip(rates, per_round["torch"])),
                   "rounds": rates}
            for name, rates in per_round.items()}
        print(json.dumps({workload: {n: round(v["per_s"], 1) for n, v in
                                     speed[workload].items()}}), flush=True)

    (args.work / "results.json").write_text(json.dumps(
        {"model": args.model, "n_sentences": len(sentences), "accuracy": results,
         "speed": speed, "rounds": args.rounds, "batch_size": args.batch_size,
         "threads": args.threads or "default",
         "cpu_count": os.cpu_count(), "load_avg": os.getloadavg()}, indent=2))

    if results:
        print_accuracy(results, len(taxonomy.skills), args.variant_index)
    print_speed(speed, workloads, load_s, args)


def print_accuracy(results: dict, n_skills: int, variant_index: bool) -> None:
    print(f"\nAccuracy: ESCO ({n_skills} skills, index built with torch), "
          "validation splits, sentence level; encoder alone = boost 0, pipeline = boost 0.2\n")
    print("| backend | TECH RP@5 | TECH MRR | HOUSE RP@5 | HOUSE MRR | TECH RP@5 +boost | "
          "HOUSE RP@5 +boost | cosine to torch (mean / min) |\n|---|---|---|---|---|---|---|---|")
    for name, row in results.items():
        t, h = row["tech_boost0.0"], row["house_boost0.0"]
        print(f"| {name} | {t['RP@5']:.3f} | {t['MRR']:.3f} | {h['RP@5']:.3f} | "
              f"{h['MRR']:.3f} | {row['tech_boost0.2']['RP@5']:.3f} | "
              f"{row['house_boost0.2']['RP@5']:.3f} | {row['sentence_cosine_mean']:.4f} / "
              f"{row['sentence_cosine_min']:.4f} |")
    if variant_index:
        print("\nWith the index rebuilt by the same backend:\n")
        print("| backend | TECH RP@5 | TECH MRR | HOUSE RP@5 | HOUSE MRR | TECH RP@5 +boost | "
              "HOUSE RP@5 +boost |\n|---|---|---|---|---|---|---|")
        for name, row in results.items():
            if name == "torch":
                continue
            t, h = row["tech_boost0.0_own_index"], row["house_boost0.0_own_index"]
            print(f"| {name} | {t['RP@5']:.3f} | {t['MRR']:.3f} | {h['RP@5']:.3f} | "
                  f"{h['MRR']:.3f} | {row['tech_boost0.2_own_index']['RP@5']:.3f} | "
                  f"{row['house_boost0.2_own_index']['RP@5']:.3f} |")


def print_speed(speed: dict, workloads: dict, load_s: dict, args) -> None:
    print(f"\nSpeed: median of {args.rounds} interleaved rounds, batch size {args.batch_size}, "
          f"{os.cpu_count()} CPUs (load average at the end {os.getloadavg()[0]:.1f})\n")
    header = " | ".join(f"{w} (n={len(workloads[w])}) /s | x torch" for w in workloads)
    print(f"| backend | {header} | load s |\n|---|" + "---|" * (2 * len(workloads) + 1))
    for name in load_s:
        cells = " | ".join(f"{speed[w][name]['per_s']:.1f} | x{speed[w][name]['ratio']:.2f}"
                           for w in workloads)
        print(f"| {name} | {cells} | {load_s[name]:.1f} |")


if __name__ == "__main__":
    main()
