"""Benchmark the foundation of skillmap on this machine: import, index build, extraction.

Measures, each phase in its own subprocess so that peak memory (max RSS) is per phase:

* ``esco``          ESCO CSV import and index build with the default encoder (skipped when
                    the ESCO folder is absent); the index is saved to a temporary folder;
* ``extract-demo``  ``Extractor.extract`` one ad at a time on the demo index (sentences/s);
* ``extract-esco``  the same on the ESCO index, when it was built;
* ``batch``         ``code_csv`` on a generated corpus (ads/s, sentences/s, distinct share);
* ``naive``         a per-ad loop of ``Extractor.extract`` over the same corpus: the
                    baseline for the batch speed-up (no cross-ad de-duplication).

The corpus comes from ``benchmarks/make_ads.py`` (synthetic, seeded). Results are printed
as a Markdown table and, with ``--json-out``, written as JSON. Model loading and index
loading are timed separately ("setup") and are not part of the throughput figures; each
timed loop starts after one warm-up call.

Examples::

    python benchmarks/bench_foundation.py --json-out /tmp/bench.json            # full run
    python benchmarks/bench_foundation.py --quick                              # smoke test
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything can import huggingface_hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent
DEFAULT_ESCO = PROJECT_ROOT.parent / "shared" / "esco"
PHASE_TIMEOUT_S = 1200
PACKAGES = ("torch", "sentence-transformers", "transformers", "faiss-cpu", "faiss", "spacy",
            "numpy", "pandas", "skillmap")


def load_make_ads():
    """Import ``benchmarks/make_ads.py`` by path (``benchmarks`` is not a package)."""
    spec = importlib.util.spec_from_file_location("make_ads", HERE / "make_ads.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


# =========================================================================== child side
def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def read_ads(path: str, limit: int | None = None) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        ads = list(csv.DictReader(fh))
    return ads[:limit] if limit else ads


def make_extractor(index: str, result: dict):
    """An Extractor on ``index`` ("demo" or a folder); records import and setup times."""
    t0 = time.perf_counter()
    from skillmap.pipeline import Extractor
    result["import_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    extractor = Extractor(index=None if index == "demo" else index)
    result["setup_s"] = time.perf_counter() - t0  # model load + index load (or build)
    extractor.extract("Warm-up: we need a nurse who can drive and speaks German.", "warm-up")
    result["rss_after_setup_mib"] = peak_rss_mib()
    result["index_skills"] = len(extractor.index)
    return extractor


def phase_esco(params: dict) -> dict:
    result: dict = {}
    from skillmap.taxonomy import import_esco

    t0 = time.perf_counter()
    taxonomy, report = import_esco(params["esco_dir"])
    result["import_s"] = time.perf_counter() - t0
    result["rss_after_import_mib"] = peak_rss_mib()
    result.update(skills=report.skills, groups=report.groups,
                  dangling_links_dropped=report.dangling_links_dropped,
                  skills_without_parent=report.skills_without_parent)

    from skillmap.encoder import SkillEncoder
    from skillmap.index import SkillIndex

    t0 = time.perf_counter()
    encoder = SkillEncoder.cached()
    encoder.probe  # noqa: B018  (first forward pass, so it is not billed to the build)
    result["model_load_s"] = time.perf_counter() - t0
    result["model_id"] = encoder.model_id

    t0 = time.perf_counter()
    index = SkillIndex.build(taxonomy, encoder)
    result["build_s"] = time.perf_counter() - t0
    result["build_skills_per_s"] = report.skills / result["build_s"]

    t0 = time.perf_counter()
    folder = index.save(params["index_out"])
    result["save_s"] = time.perf_counter() - t0
    result["index_mib"] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
    return result


def codable_count(ad_result) -> int:
    """Sentences the encoder works on: all segments but headings (as BatchReport counts)."""
    return sum(s.kind != "heading" for s in ad_result.sentences)


def phase_extract(params: dict) -> dict:
    result: dict = {}
    extractor = make_extractor(params["index"], result)
    ads = read_ads(params["ads_csv"], params["n_ads"])
    sentences = 0  # codable sentences (headings are segmented but not encoded)
    t0 = time.perf_counter()
    for ad in ads:
        ad_result = extractor.extract(ad["description"], ad["ad_id"])
        sentences += codable_count(ad_result)
    seconds = time.perf_counter() - t0
    result.update(ads=len(ads), sentences=sentences,
                  seconds=seconds, ads_per_s=len(ads) / seconds,
                  sentences_per_s=sentences / seconds, ms_per_ad=1000 * seconds / len(ads))
    return result


def phase_batch(params: dict) -> dict:
    result: dict = {}
    extractor = make_extractor(params["index"], result)
    from skillmap.batch.coder import code_csv

    t0 = time.perf_counter()
    report = code_csv(extractor, params["ads_csv"], params["out_csv"], text_column="description",
                      id_column="ad_id", chunk_size=params["chunk_size"], show_progress=False)
    seconds = time.perf_counter() - t0
    result.update(ads=report.ads, sentences=report.sentences,
                  encoded_sentences=report.encoded_sentences, rows_written=report.rows_written,
                  chunks=report.chunks, chunk_size=params["chunk_size"], seconds=seconds,
                  ads_per_s=report.ads / seconds, sentences_per_s=report.sentences / seconds,
                  encoded_share=report.encoded_sentences / max(report.sentences, 1))

    # Untimed: how much de-duplication a single whole-corpus pass could get (the batch
    # de-duplicates within each chunk: BatchReport.encoded_sentences).
    from skillmap.segmentation.text import segment

    codable = [s.text for ad in read_ads(params["ads_csv"])
               for s in segment(ad["description"]) if s.codable]
    result.update(codable_sentences=len(codable), distinct_codable_global=len(set(codable)))
    return result


def phase_naive(params: dict) -> dict:
    result: dict = {}
    extractor = make_extractor(params["index"], result)
    ads = read_ads(params["ads_csv"], params["n_ads"])
    skills: dict[str, list[str]] = {}
    sentences = 0
    t0 = time.perf_counter()
    for ad in ads:
        ad_result = extractor.extract(ad["description"], ad["ad_id"])
        sentences += codable_count(ad_result)
        skills[ad["ad_id"]] = [m.skill_id for m in ad_result.skills]
    seconds = time.perf_counter() - t0
    Path(params["skills_out"]).write_text(json.dumps(skills), encoding="utf-8")
    result.update(ads=len(ads), sentences=sentences, seconds=seconds,
                  ads_per_s=len(ads) / seconds, sentences_per_s=sentences / seconds)
    return result


PHASES = {"esco": phase_esco, "extract": phase_extract, "batch": phase_batch,
          "naive": phase_naive}


def run_phase(name: str, params_json: str, result_path: str) -> int:
    """Child entry point: run one phase, add peak RSS and torch threads, write JSON."""
    result = PHASES[name](json.loads(params_json))
    result["max_rss_mib"] = peak_rss_mib()
    if "torch" in sys.modules:
        result["torch_threads"] = sys.modules["torch"].get_num_threads()
    Path(result_path).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


# =========================================================================== parent side
def spawn(label: str, phase: str, params: dict, workdir: Path) -> dict:
    """Run one phase in a fresh interpreter; return its result plus the wall time."""
    result_path = workdir / f"result-{label}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", phase,
               "--phase-params", json.dumps(params), "--phase-result", str(result_path)]
    print(f"[bench] {label} ...", file=sys.stderr, flush=True)
    busy0, own0 = system_cpu_s(), children_cpu_s()
    t0 = time.perf_counter()
    done = subprocess.run(command, timeout=PHASE_TIMEOUT_S)
    wall = time.perf_counter() - t0
    others = (system_cpu_s() - busy0) - (children_cpu_s() - own0)  # CPU-s used by others
    if done.returncode != 0 or not result_path.is_file():
        raise SystemExit(f"[bench] phase {label} failed (exit status {done.returncode})")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    result["process_wall_s"] = wall
    result["cpu_s"] = children_cpu_s() - own0
    result["other_processes_cores"] = max(others, 0.0) / wall
    print(f"[bench] {label} done in {wall:.1f} s", file=sys.stderr, flush=True)
    return result


def system_cpu_s() -> float:
    """CPU seconds all processes have used since boot (0 where /proc/stat is missing)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    """CPU seconds used by this process's finished children (the phases)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_info() -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 2**20
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"nproc": usable or os.cpu_count(), "cpu_count": os.cpu_count(),
            "cpu_model": cpu_model or platform.processor(), "memory_gib": mem_gib,
            "python": platform.python_version(), "platform": platform.platform(),
            "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
                           if k in os.environ}}


def versions() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def agreement(batch_csv: Path, naive_json: Path) -> dict:
    """Share of ads for which batch and per-ad coding give the same top-k skills."""
    batch: dict[str, list[str]] = defaultdict(list)
    with open(batch_csv, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            batch[row["doc_id"]].append(row["skill_id"])
    naive = json.loads(naive_json.read_text(encoding="utf-8"))
    same_set = sum(set(batch.get(ad, [])) == set(skills) for ad, skills in naive.items())
    same_order = sum(batch.get(ad, []) == skills for ad, skills in naive.items())
    return {"ads_compared": len(naive), "same_skill_set": same_set / max(len(naive), 1),
            "same_ranking": same_order / max(len(naive), 1)}


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def markdown(report: dict) -> str:
    m, v, corpus, phases = (report["machine"], report["versions"], report["corpus"],
                            report["phases"])
    threads = next((p["torch_threads"] for p in phases.values() if "torch_threads" in p), "?")
    faiss = v.get("faiss-cpu") or v.get("faiss", "?")
    lines = [
        "## skillmap foundation benchmark", "",
        f"- Machine: {m['cpu_model']}, nproc {m['nproc']}, "
        f"{fmt(m['memory_gib'] or 0)} GiB RAM, torch threads {threads}",
        f"- Versions: torch {v.get('torch', '?')}, sentence-transformers "
        f"{v.get('sentence-transformers', '?')}, faiss {faiss}, Python {m['python']}",
        f"- Corpus: {corpus['ads']:,} synthetic ads (make_ads.py, seed {corpus['seed']}); "
        f"{corpus['lines_split_sentences']:,} newline/'. ' sentences, "
        f"{fmt(100 * corpus['repeat_share'])}% of them repeats", "",
        "| Phase | Work | Time (s) | Throughput | Setup (s) | Peak RSS (MiB) |",
        "|---|---|---:|---|---:|---:|",
    ]
    if "esco" in phases:
        e = phases["esco"]
        lines.append(f"| ESCO import | {e['skills']:,} skills, {e['groups']:,} groups | "
                     f"{fmt(e['import_s'], 2)} | {fmt(e['skills'] / e['import_s'], 0)} skills/s "
                     f"| – | {fmt(e['rss_after_import_mib'], 0)} |")
        lines.append(f"| ESCO index build | {e['skills']:,} skills, default encoder | "
                     f"{fmt(e['build_s'])} | {fmt(e['build_skills_per_s'], 0)} skills/s | "
                     f"{fmt(e['model_load_s'])} | {fmt(e['max_rss_mib'], 0)} |")
    for key, label in (("extract-demo", "demo"), ("extract-esco", "ESCO")):
        if key in phases:
            x = phases[key]
            lines.append(f"| extract, {label} index ({x['index_skills']:,} skills) | "
                         f"{x['ads']:,} ads one at a time, {x['sentences']:,} sentences | "
                         f"{fmt(x['seconds'])} | {fmt(x['sentences_per_s'], 0)} sentences/s "
                         f"({fmt(x['ads_per_s'])} ads/s, {fmt(x['ms_per_ad'], 0)} ms/ad) | "
                         f"{fmt(x['setup_s'])} | {fmt(x['max_rss_mib'], 0)} |")
    if "batch" in phases:
        b = phases["batch"]
        lines.append(f"| batch `code_csv`, demo index | {b['ads']:,} ads, {b['sentences']:,} "
                     f"sentences, {fmt(100 * b['encoded_share'])}% encoded (per chunk of "
                     f"{b['chunk_size']}) | {fmt(b['seconds'])} | {fmt(b['ads_per_s'])} ads/s, "
                     f"{fmt(b['sentences_per_s'], 0)} sentences/s | {fmt(b['setup_s'])} | "
                     f"{fmt(b['max_rss_mib'], 0)} |")
    if "naive" in phases:
        n = phases["naive"]
        lines.append(f"| naive per-ad `extract` loop, demo index | {n['ads']:,} ads, "
                     f"{n['sentences']:,} sentences | {fmt(n['seconds'])} | "
                     f"{fmt(n['ads_per_s'])} ads/s, {fmt(n['sentences_per_s'], 0)} sentences/s | "
                     f"{fmt(n['setup_s'])} | {fmt(n['max_rss_mib'], 0)} |")
    derived = report.get("derived", {})
    lines.append("")
    if "batch_vs_naive" in derived:
        lines.append(f"- Batch / naive speed (ads/s): **{derived['batch_vs_naive']:.2f}x**"
                     + (f" (naive timed on {phases['naive']['ads']:,} of "
                        f"{phases['batch']['ads']:,} ads)"
                        if phases["naive"]["ads"] != phases["batch"]["ads"] else ""))
    if "agreement" in derived:
        a = derived["agreement"]
        lines.append(f"- Batch vs naive results: same top-k skill set for "
                     f"{fmt(100 * a['same_skill_set'])}% of {a['ads_compared']:,} ads, "
                     f"same ranking for {fmt(100 * a['same_ranking'])}%")
    if "batch" in phases:
        b = phases["batch"]
        lines.append(f"- De-duplication opportunity: {b['distinct_codable_global']:,} distinct of "
                     f"{b['codable_sentences']:,} codable sentences over the whole corpus "
                     f"({fmt(100 * b['distinct_codable_global'] / max(b['codable_sentences'], 1))}"
                     f"%); the batch encoder ran on {b['encoded_sentences']:,} (distinct per "
                     f"chunk of {b['chunk_size']})")
    lines.append("- CPU taken by other processes or hypervisor steal during each phase (cores): "
                 + ", ".join(
        f"{name} {p['other_processes_cores']:.2f}" for name, p in phases.items()))
    lines.append("- Time = the timed loop only; Setup = model + index load (or build) in that "
                 "phase's process; Peak RSS = max RSS of that phase's process")
    for note in report.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark ESCO import, index build, per-ad extraction and batch coding "
                    "on this machine. Each phase runs in its own subprocess so peak memory "
                    "is per phase. Prints a Markdown table; --json-out also writes JSON.",
        epilog="Full run (about 5-6 minutes on 2 cores): "
               "python benchmarks/bench_foundation.py --esco ../shared/esco "
               "--json-out bench.json. Smoke test: --quick.",
)
    parser.add_argument("--esco", type=Path, default=DEFAULT_ESCO,
                        help="ESCO CSV export folder; the ESCO phases are skipped if absent "
                             "(default: ../shared/esco next to the project)")
    parser.add_argument("--no-esco", action="store_true", help="skip the ESCO phases")
    parser.add_argument("--ads", type=int, default=1000,
                        help="ads in the generated corpus coded by the batch phase (default: 1000)")
    parser.add_argument("--extract-ads", type=int, default=100,
                        help="ads coded one at a time by the extract phases (default: 100)")
    parser.add_argument("--naive-ads", type=int, default=None,
                        help="ads coded by the naive per-ad baseline (default: all --ads)")
    parser.add_argument("--chunk-size", type=int, default=256,
                        help="code_csv chunk size (default: 256)")
    parser.add_argument("--seed", type=int, default=0,
                        help="corpus seed for make_ads.py (default: 0)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 100 ads everywhere, no ESCO")
    parser.add_argument("--json-out", type=Path, help="write the results as JSON here")
    parser.add_argument("--workdir", type=Path,
                        help="keep the corpus, outputs and ESCO index here "
                             "(default: a temporary folder, deleted at the end)")
    # Internal: how the script re-invokes itself for one phase.
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--phase-params", help=argparse.SUPPRESS)
    parser.add_argument("--phase-result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.ads, args.extract_ads, args.naive_ads, args.no_esco = 100, 100, 100, True
    args.naive_ads = min(args.naive_ads or args.ads, args.ads)
    args.extract_ads = min(args.extract_ads, args.ads)
    if min(args.ads, args.extract_ads, args.naive_ads, args.chunk_size) < 1:
        parser.error("--ads, --extract-ads, --naive-ads and --chunk-size must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase:
        return run_phase(args.phase, args.phase_params, args.phase_result)

    started = time.perf_counter()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="skillmap-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        make_ads = load_make_ads()
        ads = make_ads.generate_ads(args.ads, seed=args.seed)
        ads_csv = make_ads.write_ads(ads, workdir / f"ads_{args.ads}.csv")
        total, distinct = make_ads.sentence_stats(ads)
        report: dict = {
            "machine": machine_info(), "versions": versions(),
            "config": {"ads": args.ads, "extract_ads": args.extract_ads,
                       "naive_ads": args.naive_ads, "chunk_size": args.chunk_size,
                       "seed": args.seed, "quick": args.quick,
                       "esco": None if args.no_esco else str(args.esco)},
            "corpus": {"ads": len(ads), "seed": args.seed, "lines_split_sentences": total,
                       "distinct": distinct, "repeat_share": 1 - distinct / total},
            "phases": {}, "derived": {}, "notes": []}
        phases = report["phases"]

        esco_index = workdir / "esco-index"
        if args.no_esco:
            report["notes"].append("ESCO phases skipped (--no-esco/--quick)")
        elif not (any(args.esco.glob("skills_*.csv")) or (args.esco / "skills.csv").is_file()):
            report["notes"].append(f"ESCO phases skipped: no ESCO export in {args.esco}")
        else:
            phases["esco"] = spawn("esco", "esco", {"esco_dir": str(args.esco),
                                                    "index_out": str(esco_index)}, workdir)

        phases["extract-demo"] = spawn("extract-demo", "extract", {
            "index": "demo", "ads_csv": str(ads_csv), "n_ads": args.extract_ads}, workdir)
        if "esco" in phases:
            phases["extract-esco"] = spawn("extract-esco", "extract", {
                "index": str(esco_index), "ads_csv": str(ads_csv), "n_ads": args.extract_ads},
                workdir)

        batch_out = workdir / "batch-coded.csv"
        phases["batch"] = spawn("batch", "batch", {
            "index": "demo", "ads_csv": str(ads_csv), "out_csv": str(batch_out),
            "chunk_size": args.chunk_size}, workdir)
        naive_skills = workdir / "naive-skills.json"
        phases["naive"] = spawn("naive", "naive", {
            "index": "demo", "ads_csv": str(ads_csv), "n_ads": args.naive_ads,
            "skills_out": str(naive_skills)}, workdir)

        report["derived"]["batch_vs_naive"] = (phases["batch"]["ads_per_s"]
                                               / phases["naive"]["ads_per_s"])
        report["derived"]["agreement"] = agreement(batch_out, naive_skills)
        report["total_wall_s"] = time.perf_counter() - started
        busiest = max(p["other_processes_cores"] for p in phases.values())
        report["max_other_processes_cores"] = busiest
        if busiest > 0.25:
            report["notes"].append(
                f"WARNING: other processes (or hypervisor steal) used up to {busiest:.1f} of "
                f"{report['machine']['nproc']} CPUs during a phase; competing for the "
                "cores slows torch down badly, so treat these timings as pessimistic and "
                "rerun on an idle machine")
        report["notes"].append(f"whole benchmark took {report['total_wall_s']:.0f} s")

        print(markdown(report))
        if args.json_out:
            args.json_out.parent.mkdir(parents=True, exist_ok=True)
            args.json_out.write_text(json.dumps(report, indent=2), encoding="utf-8")
            print(f"\n[bench] wrote {args.json_out}", file=sys.stderr)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
