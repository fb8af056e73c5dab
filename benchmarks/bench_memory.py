"""Memory stays bounded on a 1 GB corpus: peak RSS of streaming vs loading it whole.

Two generated inputs of about 1 GB each (issue 9, "resource bounds"):

* ``text``: ~1 GB of job ads only (``make_ads.py`` ads, cycled with fresh ids, ~830k ads).
  Measured: the batch reader alone (header check, the strict structure scan, every chunk
  read) — what ``skillmap batch`` does to the input before and while coding it. Coding 830k
  ads would take hours on 2 CPU cores, so the coding run uses the second input.
* ``wide``: ~1 GB in ~10k ads, each row also carrying a raw-HTML column of ~100 KB (scraped
  postings keep the page source next to the text). Measured: the whole ``skillmap batch``
  run on the default model and demo taxonomy, its RSS sampled every second (is it flat from
  start to end?) and its peak.

Each is compared, in the same run, with the peak RSS of ``pandas.read_csv`` loading the same
file whole (what a coder that is not streaming needs before it codes anything).
Every measurement runs in its own child process; peak RSS is the child's ``ru_maxrss``.

Usage::

    python benchmarks/bench_memory.py --out-dir /tmp/bench-memory [--gb 1.0]
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SKILLMAP = Path(sys.executable).with_name("skillmap")


def make_inputs(folder: Path, gigabytes: float) -> tuple[Path, Path]:
    """The ``text`` and ``wide`` corpora (re-used when already there)."""
    base = folder / "base.csv"
    if not base.exists():
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_ads.py"), "--n",
                        "40000", "--out", str(base)], check=True, capture_output=True)
    with open(base, encoding="utf-8", newline="") as fh:
        ads = list(csv.DictReader(fh))
    target = int(gigabytes * 1024**3)
    text, wide = folder / "text.csv", folder / "wide.csv"
    if not text.exists():
        _write(text, target, ads, wide_html=False)
    if not wide.exists():
        _write(wide, target, ads, wide_html=True)
    return text, wide


def _write(path: Path, target: int, ads: list[dict], wide_html: bool) -> None:
    rng = random.Random(0)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["ad_id", "title", "description"] + (["raw_html"] if wide_html else []))
        number = 0
        while fh.tell() < target:
            ad = ads[number % len(ads)]
            row = [f"ad-{number:07d}", ad["title"], ad["description"]]
            if wide_html:
                blob = base64.b64encode(rng.randbytes(75_000)).decode()
                row.append(f"<html><body><div class='job'>{ad['description']}</div>"
                           f"<script>var tracking = '{blob}';</script></body></html>")
            writer.writerow(row)
            number += 1
    tmp.replace(path)


def child(spec: str) -> None:
    """Child mode: run one measurement, print its result as JSON with the peak RSS."""
    kind, path = spec.split(":", 1)
    started = time.perf_counter()
    if kind == "pandas":
        import pandas as pd

        rows = len(pd.read_csv(path, dtype=str, keep_default_na=False))
    else:
        from skillmap.batch import check_batch_input

        table, columns = check_batch_input(path, "description", "ad_id")
        rows = table.scan()
        read = sum(len(chunk) for chunk in table.chunks(columns, 256))
        assert read == rows, (read, rows)
    print(json.dumps({"rows": rows, "seconds": round(time.perf_counter() - started, 1),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF)
                                            .ru_maxrss / 1024)}))


def measure(kind: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", f"{kind}:{path}"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _status_mib(pid: int) -> tuple[float, float] | None:
    """``(VmRSS, VmHWM)`` of a running process: its RSS now and its peak so far."""
    try:
        fields = dict(line.split(":", 1) for line in
                      Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        return None


def batch_run(path: Path, out: Path) -> dict:
    """The whole ``skillmap batch`` run, RSS sampled every second; the peak is the last
    VmHWM seen (the sibling measurements are children too, so ``RUSAGE_CHILDREN`` would
    report theirs)."""
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen([str(SKILLMAP), "batch", str(path), "-c", "description",
                                "--id-column", "ad_id", "-o", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, float]] = []
    peak = 0.0
    while process.poll() is None:
        status = _status_mib(process.pid)
        if status is not None:
            samples.append((time.perf_counter() - started, status[0]))
            peak = max(peak, status[1])
        time.sleep(1.0)
    stderr = process.stderr.read()
    if process.returncode != 0:
        raise SystemExit(stderr)
    seconds = time.perf_counter() - started
    deciles = {f"{q}%": round(max(r for t, r in samples if t <= seconds * q / 100))
               for q in (10, 25, 50, 75, 100)}
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(peak),
            "rss_max_by_progress": deciles, "summary": stderr.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/bench-memory"))
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    text, wide = make_inputs(args.out_dir, args.gb)
    results = {"inputs_mib": {p.name: round(p.stat().st_size / 1024**2) for p in (text, wide)}}
    steps = {"text: batch reader": lambda: measure("reader", text),
             "text: pandas whole": lambda: measure("pandas", text),
             "wide: pandas whole": lambda: measure("pandas", wide),
             "wide: skillmap batch": lambda: batch_run(wide, args.out_dir / "coded.csv")}
    for name, step in steps.items():
        results[name] = step()
        print(name, json.dumps(results[name]), flush=True)
        (args.out_dir / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
