"""How responsive the web app is on this machine: start-up, one ad, a 50-ad upload.

    python benchmarks/bench_app.py [--ads 50] [--index INDEX_DIR] [--skillspan]

Runs the real page script headless with Streamlit's AppTest (the same code a browser
session runs) and measures, in one process:

1. cold start: the first page run (loads the encoder and the index; later sessions share them);
2. warm start: a second, new session of the app (cached models);
3. one ad: paste the sample ad and get its skills; then change top-k (cached re-rank?);
4. a corpus upload of N generated ads (``benchmarks/make_ads.py``, realistic boilerplate
   reuse) or of the SkillSpan dev postings (``--skillspan``, real ads): seconds in the app
   vs ``Extractor.extract_many`` on the same ads in one call (the app's overhead, as a
   ratio), and the longest wait between two progress-bar updates (the page stays live
   while coding because the bar moves every ``Extractor.PROGRESS_STEP`` sentences).

Output: a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SKILLSPAN = REPO.parent / "shared" / "benchmarks" / "skillspan" / "dev.json"


def corpus(n_ads: int, use_skillspan: bool, work: Path) -> tuple[str, bytes, pd.DataFrame]:
    if use_skillspan:
        from skillmap.evaluation.skillspan import read_skillspan

        postings = read_skillspan(SKILLSPAN).postings()[:n_ads]
        frame = pd.DataFrame({"ad_id": [p.id for p in postings],
                              "description": [p.text for p in postings]})
        name = f"SkillSpan dev postings ({len(frame)})"
    else:
        path = work / "ads.csv"
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_ads.py"), "--n",
                        str(n_ads), "--out", str(path)], check=True, capture_output=True)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        name = f"make_ads.py ads ({len(frame)})"
    return name, frame.to_csv(index=False).encode("utf-8"), frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ads", type=int, default=50)
    parser.add_argument("--index", type=Path, help="code against this index instead of the demo")
    parser.add_argument("--skillspan", action="store_true",
                        help="upload the SkillSpan dev postings (real ads) instead")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-app-"))
    os.environ.setdefault("SKILLMAP_CACHE", str(work / "cache"))
    if args.index:
        os.environ["SKILLMAP_APP_INDEXES"] = str(args.index)

    from streamlit.testing.v1 import AppTest

    from skillmap.app.launcher import APP_SCRIPT

    rows = []

    def session() -> AppTest:
        at = AppTest.from_file(str(APP_SCRIPT), default_timeout=900)
        started = time.perf_counter()
        at.run()
        if args.index:
            at.selectbox(key="index").select_index(1).run()
        assert not at.exception, [e.value for e in at.exception]
        return at, time.perf_counter() - started

    at, cold = session()
    rows.append(("cold start (first page run: encoder + index load)", cold))
    _, warm = session()
    rows.append(("warm start (a new session, cached models)", warm))

    ad = (REPO / "data" / "sample_ad.txt").read_text(encoding="utf-8")
    started = time.perf_counter()
    at.text_area(key="ad_text").input(ad).run()
    rows.append(("paste the sample ad -> skills shown", time.perf_counter() - started))
    started = time.perf_counter()
    at.slider(key="top_k").set_value(5).run()
    rows.append(("change top-k (recodes the ad)", time.perf_counter() - started))

    name, data, frame = corpus(args.ads, args.skillspan, work)
    at.file_uploader(key="corpus_files").set_value(("ads.csv", data, "text/csv")).run()
    started = time.perf_counter()
    at.button(key="code_corpus").click().run()
    in_app = time.perf_counter() - started
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    coded, coding = shown["Ads coded"], float(shown["Seconds"])

    from skillmap.app import resources

    extractor = resources.get_extractor(at.selectbox(key="index").value, "none", 5, 0.0)
    texts, ids = frame["description"].tolist(), frame["ad_id"].tolist()
    started = time.perf_counter()
    extractor.extract_many(texts, ids)
    direct = time.perf_counter() - started
    stamps = [time.perf_counter()]
    extractor.extract_many(texts, ids, on_progress=lambda done, total: stamps.append(
        time.perf_counter()))
    waits = [b - a for a, b in zip(stamps, stamps[1:])]

    print(f"Corpus: {name}; index: {args.index or 'demo (embedded)'}; "
          f"{os.cpu_count()} CPU cores\n")
    print("| step | seconds |\n|---|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")
    print(f"| code {coded} uploaded ads in the app (click -> charts, tables, downloads) "
          f"| {in_app:.2f} |")
    print(f"| of which coding (the app's `extract_many` call with progress) | {coding:.2f} |")
    print(f"| the same ads, one `Extractor.extract_many` call outside the app | {direct:.2f} |")
    print(f"| longest wait between progress-bar updates ({len(waits)} updates, "
          f"{extractor.PROGRESS_STEP} sentences each) | {max(waits):.2f} |")
    print(f"\napp / direct: x{in_app / direct:.2f}; ads/s in the app: {len(texts) / in_app:.1f}")


if __name__ == "__main__":
    main()
