"""Any sentence-transformers folder, off the shelf, on the ESCO validation splits.

    python benchmarks/bench_offshelf.py --index ESCO_INDEX NAME=MODEL [NAME=MODEL ...]

Before a backbone is worth training (hours on this CPU) it should be at least as good as the
one we train, untrained. This script ranks every skill of the index's taxonomy (label text,
exact cosine, no faiss, no reranking) for the validation sentences with each model as
sentence-transformers loads it, using the model's own ``query`` / ``document`` prompts when
its folder defines them (EmbeddingGemma, E5-style models need them), and times encoding the
sentences (best of 3, same process). MODEL: a folder, a hub id in the local cache, or
``index`` for the encoder the index was built with (skillmap's loader, its skill vectors).
``--mix W`` (repeatable) adds rows for the first model's cosines mixed with each other model's,
``(1 - W) x first + W x other`` (an ensemble of a trained and an untrained encoder).
``--cache DIR`` keeps each model's skill-label vectors, so a re-run does not encode them again.
Output: Markdown on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

from skillmap.encoder import SkillEncoder  # noqa: E402
from skillmap.evaluation.uncertainty import paired_difference  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402
from skillmap.io import atomic_write  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from exact_ranking import (SPLITS, item_metrics, print_header, print_rows,  # noqa: E402
                           read_split)


def _prompt(model: SentenceTransformer, name: str) -> str | None:
    return name if name in (model.prompts or {}) else None


def _label_vectors(model: SentenceTransformer, where: str, prompt: str | None,
                   labels: list[str], args) -> np.ndarray:
    key = hashlib.sha256(json.dumps([str(Path(where).resolve()), prompt, labels]).encode())
    cached = args.cache / f"labels-{key.hexdigest()[:16]}.npy" if args.cache else None
    if cached is not None and cached.exists():
        return np.load(cached)
    started = time.perf_counter()
    vectors = model.encode(labels, prompt_name=prompt, batch_size=args.batch_size,
                           normalize_embeddings=True, show_progress_bar=False)
    print(f"{where}: {len(labels)} skill labels encoded in {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)
    if cached is not None:
        with atomic_write(cached, "wb") as handle:  # a killed run leaves no torn cache file
            np.save(handle, vectors)
    return vectors


def _paired_rows(split, rows: dict[str, np.ndarray], skills, boosts: list[float]) -> list[str]:
    """Each row's per-sentence RP@5 minus the first row's, with a paired bootstrap interval."""
    per_item = {name: [[m["RP@5"] for m in item_metrics(split, matrix, skills, boost)
                        if m is not None] for boost in boosts]
                for name, matrix in rows.items()}
    first, *others = per_item
    lines = []
    for name in others:
        cells = []
        for position in range(len(boosts)):
            d = paired_difference(per_item[name][position], per_item[first][position])
            star = "*" if d.low > 0 or d.high < 0 else ""
            cells.append(f"{d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]{star}")
        lines.append(f"| {split.name} | {name} | " + " | ".join(cells) + " |")
    return lines


def _best_of_three(encode, texts: list[str]) -> tuple[float, np.ndarray]:
    """Sentences/s of ``encode`` over ``texts`` (best of 3) and the vectors it returned."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        vectors = np.asarray(encode(texts))
        times.append(time.perf_counter() - started)
    return len(texts) / min(times), vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", metavar="NAME=MODEL")
    parser.add_argument("--index", type=Path, required=True,
                        help="a skillmap index of the taxonomy (its skills and name matcher)")
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--boosts", nargs="+", type=float, default=[0.0, 0.2])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--mix", action="append", type=float, default=[],
                        help="a weight W of the other models mixed into the first (repeat)")
    parser.add_argument("--cache", type=Path, help="folder for the skill-label vectors")
    args = parser.parse_args()
    index = SkillIndex.load(args.index)
    splits = [read_split(args.shared, part, index) for part in SPLITS]
    labels = [skill.label for skill in index.skills]
    every_sentence = [text for split in splits for text in split.texts]

    scores: dict[str, list[np.ndarray]] = {}
    speed: dict[str, float] = {}
    for spec in args.models:
        name, _, where = spec.partition("=")
        if where == "index":
            encoder = SkillEncoder.cached(index.recorded_model())
            index.check_encoder(encoder)
            skill_vectors = index.vectors

            def encode(texts, encoder=encoder):
                return encoder.encode(texts)
        else:
            model = SentenceTransformer(where, device="cpu")
            query, document = _prompt(model, "query"), _prompt(model, "document")
            skill_vectors = _label_vectors(model, where, document, labels, args)

            def encode(texts, model=model, query=query):
                return model.encode(texts, prompt_name=query, batch_size=args.batch_size,
                                    normalize_embeddings=True, show_progress_bar=False)
        speed[name], vectors = _best_of_three(encode, every_sentence)
        ends = np.cumsum([len(split.texts) for split in splits])[:-1]
        scores[name] = [part @ np.asarray(skill_vectors).T for part in np.split(vectors, ends)]

    names = list(scores)
    print_header(args.boosts)
    differences = []
    for position, split in enumerate(splits):
        rows = {name: matrices[position] for name, matrices in scores.items()}
        for other in names[1:]:
            for weight in args.mix:
                rows[f"{1 - weight:g} x {names[0]} + {weight:g} x {other}"] = (
                    (1 - weight) * rows[names[0]] + weight * rows[other])
        print_rows(split, rows, index.skills, args.boosts)
        differences += _paired_rows(split, rows, index.skills, args.boosts)
    print("\n| split | skill scores minus the first (RP@5, paired 95 % bootstrap) | "
          + " | ".join(f"boost {b}" for b in args.boosts) + " |\n|---|---|"
          + "---|" * len(args.boosts))
    print("\n".join(differences))
    first = next(iter(speed.values()))
    print("\n| model | validation sentences/s (encoding only) | ratio to the first |\n|---|---|---|")
    for name, rate in speed.items():
        print(f"| {name} | {rate:.1f} | x{rate / first:.2f} |")


if __name__ == "__main__":
    main()
