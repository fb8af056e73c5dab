"""Skill-sentence filters side by side: on real job-ad sentences, end to end, and in speed.

    python benchmarks/bench_filter.py --esco-taxonomy TAX_DIR --work /tmp/bench-filter \
        FILTER_DIR [FILTER_DIR ...]

Systems: no filter, the keyword/length heuristic, and every filter folder given (e.g. the
logistic regression on frozen embeddings and the fine-tuned classifier), each at its own
calibrated threshold, alone and with the pipeline's named-skill rule (a sentence that names
an ESCO skill verbatim passes whatever its score; ``Extractor(filter_keeps_named=)``).
Measured in one run, on this machine:

1. Sentence level on SkillSpan dev (``../shared/benchmarks/skillspan/dev.json``; a sentence
   with a skill/knowledge span is positive): precision, recall, F1, ROC-AUC, share kept.
2. End to end on the SkillSpan postings rebuilt one line per sentence, coded against ESCO by
   the default pipeline (top 10 per ad): how many of the returned skills have their evidence in
   a sentence that states no skill (noise), and how many come from skill sentences.
3. RP@5 / MRR on the ESCO-linked validation sets (tech, house; sentence level, boost 0.2):
   what the filter costs when every sentence does state a skill.
4. Speed: seconds per 1,000 sentences for each filter vs the default encoder alone.

Output: Markdown tables on stdout and ``<work>/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


from skillmap.encoder import SkillEncoder  # noqa: E402
from skillmap.evaluation import PipelineRanker, evaluate, read_benchmark  # noqa: E402
from skillmap.evaluation.skillspan import read_skillspan  # noqa: E402
from skillmap.filter import KeywordLengthFilter, classification_report, load_filter  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402
from skillmap.pipeline import Extractor  # noqa: E402
from skillmap.taxonomy import load_taxonomy  # noqa: E402


def timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("filters", nargs="*", type=Path, help="filter folders")
    parser.add_argument("--esco-taxonomy", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-filter"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    encoder = SkillEncoder.cached()
    index_dir = args.work / "esco-index"
    if (index_dir / "index.faiss").exists() or (index_dir / "metadata.json").exists():
        index = SkillIndex.load(index_dir)
    else:
        index = SkillIndex.build(load_taxonomy(args.esco_taxonomy), encoder,
                                 text_template="{label}", show_progress=True)
        index.save(index_dir)

    systems = [("no filter", None, False),
               ("keyword/length heuristic", KeywordLengthFilter(), False)]
    for folder in args.filters:
        screen = load_filter(folder)
        systems += [(folder.name, screen, False), (f"{folder.name} + named skills", screen, True)]

    spans = read_skillspan(args.shared / "skillspan" / "dev.json")
    texts = [s.text for s in spans.sentences]
    labels = [int(s.has_skill) for s in spans.sentences]
    postings = spans.postings()
    _, encode_seconds = timed(encoder.encode, texts)
    golds = {split: read_benchmark(args.shared / "skill-extraction" /
                                   f"{split}_validation_annotations.csv", index.taxonomy)
             for split in ("tech", "house")}

    results = []
    named = np.array([bool(index.label_matcher.find(text)) for text in texts])
    for name, screen, keeps_named in systems:
        row: dict = {"system": name}
        if screen is not None:
            scores, seconds = timed(screen.predict_proba, texts)
            if keeps_named:  # a named skill lifts the score to the threshold: kept
                scores = np.where(named, np.maximum(scores, screen.threshold), scores)
            row["sentence"] = classification_report(scores, labels, screen.threshold)
            row["ms_per_1000"] = round(1000 * seconds, 1)
            row["cost_vs_encoder"] = round(seconds / encode_seconds, 3)
        extractor = Extractor(index=index, encoder=encoder, top_k=10, sentence_filter=screen,
                              filter_keeps_named=keeps_named)
        results_per_ad, seconds = timed(extractor.extract_many, [p.text for p in postings])
        noise = signal = 0
        for posting, result in zip(postings, results_per_ad):
            for skill in result.skills:
                start = result.sentences[skill.evidence_index].start
                if posting.sentence_at(start).has_skill:
                    signal += 1
                else:
                    noise += 1
        row["end_to_end"] = {"ads": len(postings), "skills": noise + signal,
                             "from_skill_sentences": signal, "from_no_skill_sentences": noise,
                             "noise_share": noise / max(noise + signal, 1),
                             "seconds": round(seconds, 1)}
        for split, gold in golds.items():
            report = evaluate(PipelineRanker(extractor), gold)
            row[split] = {k: report.metrics[k] for k in ("RP@5", "MRR")}
        results.append(row)
        print(json.dumps(row), flush=True)
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nencoder alone: {1000 * encode_seconds / len(texts):.1f} ms per sentence "
          f"({len(texts)} SkillSpan sentences in {encode_seconds:.1f} s)\n")
    print("| system | precision | recall | F1 | ROC-AUC | kept | noise skills / ad-level "
          "skills | TECH RP@5 | HOUSE RP@5 | cost vs encoder |\n|---|---|---|---|---|---|---|---|"
          "---|---|")
    for row in results:
        sentence = row.get("sentence")
        cells = ([f"{sentence[k]:.3f}" for k in ("precision", "recall", "f1", "roc_auc", "kept")]
                 if sentence else ["–"] * 5)
        e2e = row["end_to_end"]
        print(f"| {row['system']} | " + " | ".join(cells) +
              f" | {e2e['from_no_skill_sentences']} / {e2e['skills']} "
              f"({e2e['noise_share']:.2f}) | {row['tech']['RP@5']:.3f} | "
              f"{row['house']['RP@5']:.3f} | {row.get('cost_vs_encoder', '–')} |")


if __name__ == "__main__":
    main()
