"""Example sentences as part of a skill's vector: does the LLM corpus help at search time?

    python benchmarks/bench_skill_examples.py --index ESCO_INDEX [--model MODEL] \
        --corpus data/corpora/esco_llm_single.jsonl.gz [--corpus ...] \
        --shared ../shared/benchmarks --cache /tmp/skill-examples-cache

The index holds one vector per skill, its label's. The LLM-written corpus holds, for most
skills, sentences written the way an ad states the skill, often without its name: closer
to what the pipeline is asked to match than the label is. This script encodes those
sentences with the index's encoder (cached in ``--cache``, keyed by the model's
fingerprint and the corpus files) and scores the ESCO validation sentences (tech, house)
against skill scores built from them, each with and without the lexical boost, no
reranking:

- ``label``: the index as it is;
- ``label + a x centroid``: one vector per skill, its label's vector plus ``a`` times the
  mean of its example sentences' vectors, normalised (the index keeps its size and speed);
- ``label + a x (centroid - corpus mean)``: the same without the part every example shares
  (what makes any sentence-like vector score higher against every query, which would favour
  the skills that have examples over those that have none);
- ``max(label, example - o)``: every example sentence an extra vector of its skill,
  discounted by ``o``, a skill scoring its best (a nearest-neighbour classifier over the
  corpus beside the label).

Skills without an example keep their label's vector. Ranking is exact (all skills).
Output: Markdown on stdout.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from skillmap.encoder import SkillEncoder  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from exact_ranking import (  # noqa: E402
    SPLITS, add_ranking_arguments, best_per_skill,
    load_index_and_encoder, print_header, print_rows, read_split)


def read_examples(paths: list[Path], positions: dict[str, int], single_only: bool):
    """(text, skill position) pairs of the corpus files; a multi-skill line counts for
    each of its skills unless ``single_only``."""
    texts, owners = [], []
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                ids = [i for i in row["skill_ids"] if i in positions]
                if single_only and len(ids) != 1:
                    continue
                for skill_id in ids:
                    texts.append(row["text"])
                    owners.append(positions[skill_id])
    return texts, np.asarray(owners, np.int64)


def example_vectors(texts, encoder: SkillEncoder, cache: Path, tag: str) -> np.ndarray:
    key = hashlib.sha256(np.asarray(encoder.probe, np.float32).tobytes()
                         + tag.encode()).hexdigest()[:12]
    path = cache / f"{key}.npy"
    if path.exists():
        return np.load(path)
    unique = sorted(set(texts))
    vectors = encoder.encode(unique, show_progress=True)
    lookup = {text: row for row, text in enumerate(unique)}
    array = vectors[[lookup[t] for t in texts]]
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, array)
    return array


def centroids(labels: np.ndarray, examples: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Mean example vector per skill (zeros for a skill with none)."""
    sums = np.zeros_like(labels)
    np.add.at(sums, owners, examples)
    counts = np.bincount(owners, minlength=len(labels)).astype(np.float32)
    return sums / np.maximum(counts, 1)[:, None]


def normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_ranking_arguments(parser)
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument("--single-only", action="store_true",
                        help="use only the corpus lines that state one skill")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/skill-examples-cache"))
    parser.add_argument("--mix", nargs="+", type=float, default=[0.25, 0.5, 1.0])
    parser.add_argument("--offset", nargs="+", type=float, default=[0.0, 0.05, 0.1])
    args = parser.parse_args()
    index, encoder = load_index_and_encoder(args)
    skills = index.skills
    positions = {skill.id: row for row, skill in enumerate(skills)}
    texts, owners = read_examples(args.corpus, positions, args.single_only)
    tag = "|".join(f"{p.name}:{p.stat().st_size}" for p in args.corpus) + str(args.single_only)
    examples = example_vectors(texts, encoder, args.cache, tag)
    labels = index.vectors
    covered = np.bincount(owners, minlength=len(labels)) > 0
    center = centroids(labels, examples, owners)
    print(f"{len(texts):,} example rows, {int(covered.sum()):,} of {len(labels):,} skills\n")

    skill_vectors = {"label (the index)": labels}   # one vector per skill, built once
    for a in args.mix:
        skill_vectors[f"label + {a} x centroid"] = np.where(
            covered[:, None], normalise(labels + a * center), labels)
        skill_vectors[f"label + {a} x (centroid - corpus mean)"] = np.where(
            covered[:, None], normalise(labels + a * (center - examples.mean(axis=0))), labels)

    print_header(args.boosts)
    for part in SPLITS:
        split = read_split(args.shared, part, index)
        vectors = encoder.encode(split.texts)
        variants = {name: vectors @ matrix.T for name, matrix in skill_vectors.items()}
        label = variants["label (the index)"]
        nearest = best_per_skill(vectors @ examples.T, owners, len(skills))
        for o in args.offset:
            variants[f"max(label, example - {o})"] = np.maximum(label, nearest - o)
        print_rows(split, variants, skills, args.boosts)


if __name__ == "__main__":
    main()
