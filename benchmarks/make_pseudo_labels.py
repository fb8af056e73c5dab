"""Pseudo-labelled training sentences from unlabelled real job ads (self-training).

    python benchmarks/make_pseudo_labels.py POSTINGS.jsonl --index IDX --out pseudo.jsonl.gz \
        --exclude ../shared/benchmarks/skill-extraction/tech_validation_annotations.csv \
        --exclude ../shared/benchmarks/skill-extraction/house_validation_annotations.csv

The synthetic corpus teaches the encoder what skills look like in sentences an LLM or a
template wrote; real ads are written differently (fragments, bullets, placeholders such as
``<ORGANIZATION>``, company jargon). Here the default pipeline (structure, filter, lexical
boost, late-interaction reranking) codes every content sentence of unlabelled real postings,
and each sentence it keeps and matches confidently becomes a training row labelled with the
pipeline's best skill. Training the encoder on those rows distils what the pipeline adds on
top of the encoder (the verbatim-name boost and token-level reranking) into the encoder
itself, on the kind of text it will meet.

POSTINGS is JSONL, one posting a line, ``{"id", "lines": [...]}`` (SkillSpan's
``train_postings.jsonl``). ``--exclude`` CSVs (a ``sentence`` column) name sentences never
to label, e.g. those of validation splits that recur verbatim in the training postings
(boilerplate repeated across one company's ads), so the training rows cannot carry them.
Output: corpus JSONL (gzip'd when the name ends in .gz) that `skillmap train encoder -c`
reads, mode ``single``, backend ``self-training``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
from pathlib import Path


def excluded_sentences(paths: list[Path]) -> set[str]:
    """Sentences (whitespace-normalised) of the --exclude CSVs."""
    found = set()
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            found.update(" ".join(row["sentence"].split()) for row in csv.DictReader(handle))
    return found


def main() -> None:
    from skillmap.corpus.records import CorpusRecord
    from skillmap.generation.annotation import read_postings
    from skillmap.pipeline import Extractor
    from skillmap.segmentation import CONTENT_KINDS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("postings", type=Path)
    parser.add_argument("--index", required=True, help="skill index folder (ESCO)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--exclude", type=Path, action="append", default=[])
    parser.add_argument("--min-score", type=float, default=0.55,
                        help="least cosine of the best skill for a sentence to be labelled; "
                        "also for one that names the skill verbatim (the names the lexical "
                        "boost finds at a low cosine are often the wrong sense)")
    args = parser.parse_args()

    extractor = Extractor(index=args.index)
    excluded = excluded_sentences(args.exclude)
    units: dict[str, tuple[str, str, str]] = {}   # sentence -> (posting id, kind, section)
    skipped = 0
    for posting in read_postings(args.postings):
        for seg in extractor.segments("\n".join(posting.lines)):
            text = " ".join(seg.text.split())
            if seg.kind not in CONTENT_KINDS or text in units:
                continue
            if text in excluded:
                skipped += 1
                continue
            units[text] = (posting.id, seg.kind, seg.section)
    sentences = list(units)
    _, keep, _ = extractor.screen(sentences, [units[s][1:] for s in sentences])
    kept = [s for s, k in zip(sentences, keep) if k]
    ranked = extractor.rank_sentences(kept)
    skills = extractor.index.skills
    records, named = [], 0
    for sentence, matches in zip(kept, ranked):
        if not matches:
            continue
        position, cosine, bonus = matches[0]
        if cosine < args.min_score:
            continue
        named += bool(bonus)
        record = CorpusRecord(
            text=sentence, skill_ids=[skills[position].id], mode="single",
            template_id="pseudo-label", template_version=1, backend="self-training",
            model=extractor.encoder.model_id, seed=0, request_id=units[sentence][0])
        # the match, for reading the file (corpus readers ignore the extra keys)
        records.append({**record.model_dump(exclude_none=True), "skill_label":
                        skills[position].label, "score": round(float(cosine), 4),
                        "names_skill": bool(bonus)})
    opener = gzip.open if args.out.suffix == ".gz" else open
    with opener(args.out, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"{len(sentences)} content sentences ({skipped} excluded), {len(kept)} kept by the "
          f"filter, {len(records)} labelled ({named} name their skill verbatim), "
          f"{len({r['skill_ids'][0] for r in records})} distinct skills -> {args.out}")


if __name__ == "__main__":
    main()
