"""Shared by the skill-score explorations (bench_skill_text, bench_skill_examples,
bench_hubness, bench_ensemble): the ESCO validation sentences, and one Markdown row per
way of scoring every skill, ranked exactly (no faiss, no reranking) at each lexical boost.

The scripts differ only in how they build a sentences x skills score matrix; keeping the
reading and the scoring here makes their tables comparable by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skillmap.evaluation import read_benchmark
from skillmap.evaluation.metrics import average_items, score_items

SPLITS = ("tech", "house")


@dataclass
class ValidationSplit:
    """One split's sentences, gold skill ids and which skills each sentence names."""

    name: str
    texts: list[str]
    golds: list[set[str]]
    named: np.ndarray  # sentences x skills, 1 where the sentence names the skill verbatim


def read_split(shared: Path, name: str, index) -> ValidationSplit:
    gold = read_benchmark(shared / "skill-extraction" / f"{name}_validation_annotations.csv",
                          index.taxonomy)
    texts = [item.text for item in gold.items]
    named = np.zeros((len(texts), len(index.skills)), np.float32)
    for row, text in enumerate(texts):
        named[row, list(index.label_matcher.find(text))] = 1.0
    return ValidationSplit(name, texts, [set(item.gold) for item in gold.items], named)


def best_per_skill(scores: np.ndarray, owners: np.ndarray, n_skills: int) -> np.ndarray:
    """Per sentence and skill, the best of the columns of ``scores`` that ``owners`` gives
    to that skill (extra vectors per skill: alternative labels, example sentences); -inf
    for a skill that owns none."""
    order = np.argsort(owners, kind="stable")
    sorted_owners = owners[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_owners)) + 1]
    best = np.full((len(scores), n_skills), -np.inf, np.float32)
    best[:, sorted_owners[starts]] = np.maximum.reduceat(scores[:, order], starts, axis=1)
    return best


def print_header(boosts: list[float]) -> None:
    print("| split | skill scores | " + " | ".join(f"RP@5, boost {b}" for b in boosts)
          + " | " + " | ".join(f"MRR, boost {b}" for b in boosts) + " |")
    print("|---|---|" + "---|" * (2 * len(boosts)))


def item_metrics(split: ValidationSplit, scores: np.ndarray, skills,
                 boost: float) -> list[dict[str, float] | None]:
    """Per sentence, the metrics of every skill ranked exactly by ``scores`` + the name bonus."""
    top = np.argsort(-(scores + boost * split.named), axis=1)[:, :10]
    return score_items([[skills[j].id for j in row] for row in top], split.golds)


def print_rows(split: ValidationSplit, variants: dict[str, np.ndarray], skills,
               boosts: list[float]) -> None:
    """One row per named score matrix: RP@5 and MRR at each boost (the name bonus)."""
    for name, scores in variants.items():
        cells: dict[str, list[str]] = {"RP@5": [], "MRR": []}
        for boost in boosts:
            metrics = average_items(item_metrics(split, scores, skills, boost))
            cells["RP@5"].append(f"{metrics['RP@5']:.3f}")
            cells["MRR"].append(f"{metrics['MRR']:.3f}")
        print(f"| {split.name} | {name} | " + " | ".join(cells["RP@5"] + cells["MRR"]) + " |",
              flush=True)


def add_ranking_arguments(parser) -> None:
    """The options every exploration takes: the index, the encoder, the benchmarks, the boosts."""
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--model", help="encoder to load [the model the index records]")
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--boosts", nargs="+", type=float, default=[0.0, 0.2])


def load_index_and_encoder(args):
    """The index of ``--index`` and the encoder of ``--model`` (else the one it records),
    checked against each other."""
    from skillmap.encoder import SkillEncoder
    from skillmap.index import SkillIndex

    index = SkillIndex.load(args.index)
    encoder = SkillEncoder.cached(args.model or index.recorded_model())
    index.check_encoder(encoder)
    return index, encoder
