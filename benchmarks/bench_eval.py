"""All systems side by side on the ESCO skill-extraction validation benchmarks, in one run.

    python benchmarks/bench_eval.py --esco ../shared/esco \
        --benchmarks ../shared/benchmarks/skill-extraction [--skillspan ../shared/benchmarks/skillspan/dev.json]

Systems: skillmap's default pipeline (MiniLM + lexical boost), the same encoder with no boost
(the off-the-shelf zero-shot baseline), TF-IDF, BM25, and the open-source peer
esco-skill-extractor (optional: skipped with a note if it is not installed; see
benchmarks/peer_esco_skill_extractor.py). Every system runs in its own child process so that
its peak RSS is its own; all share the same taxonomy, gold resolution and metrics
(`skillmap.evaluation`). Speed: sentences/s over all benchmark sentences of both splits
(after one warm-up call), and ads/s on the whole SkillSpan dev postings when given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
SYSTEMS = ("skillmap", "minilm-zero-shot", "tfidf", "bm25", "peer")


def build_ranker(system: str, taxonomy, index_dir: Path):
    """Return (ranker, build seconds). The skillmap index is built once and shared."""
    started = time.perf_counter()
    if system in ("skillmap", "minilm-zero-shot"):
        from skillmap.pipeline import Extractor

        boost = 0.2 if system == "skillmap" else 0.0
        ranker_cls = __import__("skillmap.evaluation", fromlist=["PipelineRanker"]).PipelineRanker
        extractor = Extractor(index_dir, top_k=10, lexical_boost=boost)
        name = ("skillmap default (MiniLM-L6 + lexical boost 0.2)" if boost
                else "MiniLM-L6 off the shelf (zero-shot, no boost)")
        ranker = ranker_cls(extractor, name=name)
        return ranker, time.perf_counter() - started, extractor
    if system == "tfidf":
        from skillmap.evaluation.baselines import TfidfRanker

        return TfidfRanker(taxonomy), time.perf_counter() - started, None
    if system == "bm25":
        from skillmap.evaluation.baselines import BM25Ranker

        return BM25Ranker(taxonomy), time.perf_counter() - started, None
    sys.path.insert(0, str(HERE))
    from peer_esco_skill_extractor import PeerRanker

    ranker = PeerRanker(taxonomy)
    return ranker, time.perf_counter() - started, None


def read_postings(path: Path) -> list[str]:
    """SkillSpan dev: sentences grouped by posting, joined with newlines."""
    postings: dict[int, list[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            postings.setdefault(record["idx"], []).append(" ".join(record["tokens"]))
    return ["\n".join(sentences) for sentences in postings.values()]


def run_system(system: str, args) -> dict:
    from skillmap.evaluation import evaluate, read_skill_extraction_csv
    from skillmap.index import SkillIndex

    index = SkillIndex.load(args.index)
    taxonomy = index.taxonomy
    ranker, build_seconds, extractor = build_ranker(system, taxonomy, args.index)
    out = {"system": ranker.name, "build_seconds": build_seconds, "splits": {}}
    if hasattr(ranker, "build_seconds"):
        out["build_seconds"] = ranker.build_seconds
    if hasattr(ranker, "mapping"):
        out["mapping"] = ranker.mapping
    benches = [read_skill_extraction_csv(p, taxonomy)
               for p in sorted(Path(args.benchmarks).glob("*_validation_annotations.csv"))]
    # untimed warm-up on a full batch of real sentences (thread pools, allocator, caches)
    ranker.rank([item.text for item in benches[0].items][:64], 10)
    sentences = 0
    seconds = 0.0
    for bench in benches:
        report = evaluate(ranker, bench, k=10)
        out["splits"][bench.name.split("_")[0]] = {**report.metrics, "n": report.n,
                                                   "unresolved": report.unresolved}
        sentences += report.n
        seconds += report.seconds
    out["sentences_per_s"] = sentences / seconds
    if args.skillspan:
        postings = read_postings(Path(args.skillspan))[: args.ads]
        started = time.perf_counter()
        if extractor is not None:
            extractor.extract_many(postings)
        elif system == "peer":
            ranker.rank(postings, 10)  # the peer splits whole texts into fragments itself
        else:
            postings = []
        elapsed = time.perf_counter() - started
        if postings:
            out["ads"] = len(postings)
            out["ads_per_s"] = len(postings) / elapsed
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--esco", type=Path, default=Path("../shared/esco"))
    parser.add_argument("--benchmarks", type=Path,
                        default=Path("../shared/benchmarks/skill-extraction"))
    parser.add_argument("--skillspan", type=Path, default=None,
                        help="SkillSpan dev.json: also time whole postings (ads/s)")
    parser.add_argument("--ads", type=int, default=100, help="postings timed for ads/s")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--system", help=argparse.SUPPRESS)   # child mode
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.system:  # child: one system, result as JSON
        args.result.write_text(json.dumps(run_system(args.system, args)))
        return

    from skillmap.encoder import SkillEncoder
    from skillmap.index import SkillIndex
    from skillmap.taxonomy import import_esco

    work = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    taxonomy, _ = import_esco(args.esco)
    started = time.perf_counter()
    SkillIndex.build(taxonomy, SkillEncoder()).save(work / "index")
    index_build = time.perf_counter() - started
    print(f"skillmap ESCO index build: {index_build:.1f}s", file=sys.stderr)
    results = []
    for system in args.systems.split(","):
        result_path = work / f"{system}.json"
        command = [sys.executable, __file__, "--system", system, "--index", str(work / "index"),
                   "--result", str(result_path), "--benchmarks", str(args.benchmarks),
                   "--ads", str(args.ads)]
        if args.skillspan:
            command += ["--skillspan", str(args.skillspan)]
        print(f"[bench] {system} ...", file=sys.stderr, flush=True)
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["?"])[-1]
            print(f"[bench] {system} skipped: {tail}", file=sys.stderr)
            continue
        result = json.loads(result_path.read_text())
        if system in ("skillmap", "minilm-zero-shot"):
            result["build_seconds"] = index_build
        results.append(result)

    print(f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}\n")
    print("| system | TECH RP@5 | TECH RP@10 | TECH MRR | HOUSE RP@5 | HOUSE RP@10 | HOUSE MRR "
          "| sentences/s | ads/s | build (s) | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ours = next((r for r in results if r["system"].startswith("skillmap")), None)
    for r in results:
        t, h = r["splits"].get("tech", {}), r["splits"].get("house", {})
        ads = f"{r['ads_per_s']:.2f}" if "ads_per_s" in r else "–"
        print(f"| {r['system']} | {t.get('RP@5', 0):.3f} | {t.get('RP@10', 0):.3f} | "
              f"{t.get('MRR', 0):.3f} | {h.get('RP@5', 0):.3f} | {h.get('RP@10', 0):.3f} | "
              f"{h.get('MRR', 0):.3f} | {r['sentences_per_s']:.1f} | {ads} | "
              f"{r['build_seconds']:.1f} | {r['peak_rss_mib']:.0f} |")
    if ours:
        print("\nRatios to skillmap default (RP@5 tech/house, sentences/s):")
        for r in results:
            if r is ours:
                continue
            t, h = r["splits"]["tech"], r["splits"]["house"]
            print(f"- {r['system']}: RP@5 x{ours['splits']['tech']['RP@5'] / t['RP@5']:.2f} / "
                  f"x{ours['splits']['house']['RP@5'] / h['RP@5']:.2f} in our favour; "
                  f"speed ours/theirs x{ours['sentences_per_s'] / r['sentences_per_s']:.2f}")
    for r in results:
        if "mapping" in r:
            print(f"\nPeer id mapping: {r['mapping']}")
    unresolved = {k: v["unresolved"] for k, v in results[0]["splits"].items()} if results else {}
    print(f"\nUnresolved gold labels (misses for every system): {unresolved}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"index_build_seconds": index_build,
                                             "results": results}, indent=2))


if __name__ == "__main__":
    main()
