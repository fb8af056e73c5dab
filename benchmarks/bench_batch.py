"""Batch coding at scale: ads/s and peak memory of `skillmap batch` on a 10,000-ad corpus.

    python benchmarks/bench_batch.py --n 10000 --work /tmp/bench-batch [--onnx-model DIR]

The corpus comes from ``benchmarks/make_ads.py`` (seeded; 60 companies reusing their blurbs,
benefits and closing lines, shared requirement lines), so sentence reuse is realistic.
Every variant runs in its own process on the same corpus, one after the other, through the
product's own code path; the table reports coding time (model loading excluded, as printed
by the CLI), ads/s, sentences actually encoded, the process's peak RSS and the speed ratio
to the foundation issue's first batch implementation (commit 9bf1f52, checked out into a
git worktree and run with the same Python environment) in the same run.

Variants:

- ``foundation``: commit 9bf1f52's `skillmap batch` with its default encoder
  (all-MiniLM-L6-v2): de-duplication within a chunk of 256 ads.
- ``minilm/run``: today's code, same encoder, run-wide de-duplication (``--dedup-cache``).
- ``default/none``: today's shipped default encoder (MiniLM + LoRA + BiLSTM + attention), every
  sentence occurrence filtered, encoded and searched (no de-duplication at all; a benchmark-only
  extractor subclass, see :class:`EveryOccurrence`).
- ``default/chunk``: the default encoder, de-duplication within each chunk (``--dedup-cache 0``).
- ``default/run``: the default encoder, run-wide de-duplication (the product default).
- ``onnx/chunk``, ``onnx/run``: as above with ``--model DIR`` of an ONNX export of the default
  encoder (``skillmap encoder export-onnx``), when ``--onnx-model`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOUNDATION_COMMIT = "9bf1f52"
CODED = re.compile(r"coded (\d+) ads .*? in ([\d.]+)s")


def run(command: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run one variant; return its coding seconds, ads, peak RSS (MiB) and its last line."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, **(env or {})}, cwd=cwd)
    out, err = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{err[-3000:]}")
    text = out + err
    match = CODED.search(text)
    if match is None:
        raise SystemExit(f"no 'coded N ads in Xs' line from {' '.join(command)}:\n{text[-2000:]}")
    encoded = re.search(r"(\d+) sentences encoded", text)
    return {"ads": int(match[1]), "seconds": float(match[2]), "wall": wall,
            "encoded": int(encoded[1]) if encoded else None, "line": match[0]}


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class _Runner:
    """Runs variants one at a time and records each one's peak RSS.

    ``RUSAGE_CHILDREN`` reports the maximum over all waited-for children, so each variant is
    started from a fresh intermediate Python process that reports its own child's peak.
    """

    def variant(self, command: list[str], env: dict | None = None, cwd: Path | None = None
                ) -> dict:
        probe = [sys.executable, __file__, "--measure", json.dumps(
            {"command": command, "env": env or {}, "cwd": str(cwd) if cwd else None})]
        result = subprocess.run(probe, capture_output=True, text=True)
        if result.returncode:
            raise SystemExit(result.stdout[-3000:] + result.stderr[-3000:])
        return json.loads(result.stdout.strip().splitlines()[-1])


def measure(spec: str) -> None:
    """Child mode: run one command and print its result with its peak RSS."""
    spec = json.loads(spec)
    result = run(spec["command"], spec["env"], Path(spec["cwd"]) if spec["cwd"] else None)
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


def every_occurrence(args: list[str]) -> None:
    """Child mode: code the corpus with no de-duplication at all (every sentence occurrence)."""
    from skillmap.batch import code_corpus
    from skillmap.pipeline import Extractor
    from skillmap.segmentation.text import segment

    class EveryOccurrence(Extractor):
        """Filters, encodes and searches each codable sentence occurrence, repeats included."""

        def extract_many(self, texts, doc_ids=None, show_progress=False, on_progress=None,
                         cache=None):
            segmented = [segment(text if isinstance(text, str) else "") for text in texts]
            occurrences = [s.text for segs in segmented for s in segs if s.codable]
            outcomes = dict(zip(occurrences, self._code_sentences(occurrences, False, None)))
            return [self._aggregate(doc_id, segs, outcomes)
                    for doc_id, segs in zip(doc_ids, segmented)]

    corpus, out = args
    extractor = EveryOccurrence(sentence_filter=None)
    started = time.perf_counter()
    report = code_corpus(extractor, corpus, out, "description", "ad_id", show_progress=False,
                         dedup_cache=0)
    print(f"coded {report.ads} ads (no de-duplication) in {time.perf_counter() - started:.1f}s;"
          f" {report.sentences} sentences encoded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="ads in the generated corpus")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-batch"))
    parser.add_argument("--onnx-model", help="an ONNX export of the default encoder")
    parser.add_argument("--only", nargs="+", help="run only these variants")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--every-occurrence", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure)
    if args.every_occurrence:
        return every_occurrence(args.every_occurrence)

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"ads_{args.n}.csv"
    if not corpus.exists():
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_ads.py"), "--n",
                        str(args.n), "--seed", str(args.seed), "--out", str(corpus)], check=True)
    skillmap = str(Path(sys.executable).with_name("skillmap"))
    common = ["--text-column", "description", "--id-column", "ad_id", "--no-filter"]
    runner = _Runner()

    foundation = work / f"foundation-{FOUNDATION_COMMIT}"
    if not foundation.exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(foundation),
                        FOUNDATION_COMMIT], check=True, capture_output=True)
    old_cli = [sys.executable, "-c", "import sys; from skillmap.cli import main; "
               "sys.argv[0] = 'skillmap'; main()"]
    old_env = {"PYTHONPATH": str(foundation), "SKILLMAP_CACHE": str(work / "cache-foundation")}
    minilm_index = work / "demo-minilm-index"
    if not minilm_index.exists():
        subprocess.run([skillmap, "index", "build", "--model", "all-MiniLM-L6-v2", "--out",
                        str(minilm_index)], check=True, capture_output=True)

    variants = {
        "foundation": lambda out: runner.variant(
            old_cli + ["batch", str(corpus), "--text-column", "description", "--id-column",
                       "ad_id", "--out", str(out)], old_env, foundation),
        "minilm/run": lambda out: runner.variant(
            [skillmap, "batch", str(corpus), *common, "--index", str(minilm_index),
             "--out", str(out)]),
        "default/none": lambda out: runner.variant(
            [sys.executable, __file__, "--every-occurrence", str(corpus), str(out)]),
        "default/chunk": lambda out: runner.variant(
            [skillmap, "batch", str(corpus), *common, "--dedup-cache", "0", "--out", str(out)]),
        "default/run": lambda out: runner.variant(
            [skillmap, "batch", str(corpus), *common, "--out", str(out)]),
    }
    if args.onnx_model:
        variants["onnx/chunk"] = lambda out: runner.variant(
            [skillmap, "batch", str(corpus), *common, "--model", args.onnx_model,
             "--dedup-cache", "0", "--out", str(out)])
        variants["onnx/run"] = lambda out: runner.variant(
            [skillmap, "batch", str(corpus), *common, "--model", args.onnx_model,
             "--out", str(out)])

    results = {}
    for name, start in variants.items():
        if args.only and name not in args.only:
            continue
        out = work / f"coded-{name.replace('/', '-')}.csv"
        out.unlink(missing_ok=True)
        results[name] = start(out)
        r = results[name]
        print(f"{name}: {r['ads'] / r['seconds']:.1f} ads/s, {r['peak_rss_mib']:.0f} MiB "
              f"({r['line']})", file=sys.stderr)
        (work / "results.json").write_text(json.dumps(results, indent=2))

    base = results.get("foundation")
    print(f"\n{args.n:,} ads from make_ads.py (seed {args.seed}); {os.cpu_count()} CPU cores\n")
    print("| variant | coding s | ads/s | sentences encoded | peak RSS MiB | x foundation |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        speed = r["ads"] / r["seconds"]
        ratio = f"{speed / (base['ads'] / base['seconds']):.2f}" if base else "-"
        encoded = f"{r['encoded']:,}" if r["encoded"] is not None else "-"
        print(f"| {name} | {r['seconds']:.1f} | {speed:.1f} | {encoded} | "
              f"{r['peak_rss_mib']:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
