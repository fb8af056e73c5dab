"""Run a ranker on a benchmark and score it: the one code path behind `skillmap eval` and
the benchmark scripts, so every system is measured the same way."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from skillmap.evaluation.benchmarks import Benchmark
from skillmap.evaluation.metrics import DEFAULT_KS, score_rankings
from skillmap.evaluation.rankers import Ranker

HEADLINE = ("RP@5", "RP@10", "MRR", "P@5", "R@5", "F1@5")


@dataclass
class EvalReport:
    system: str
    benchmark: str
    level: str
    metrics: dict[str, float]
    n: int
    unresolved: int
    items_without_gold: int
    seconds: float
    items_per_second: float

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(ranker: Ranker, benchmark: Benchmark, k: int = 10,
             ks: tuple[int, ...] = DEFAULT_KS) -> EvalReport:
    """Rank every item of ``benchmark`` (top ``k``) and average the metrics."""
    if not benchmark.items:
        from skillmap.errors import InputError

        raise InputError(f"{benchmark.name}: no items with gold skills to evaluate")
    texts = [item.text for item in benchmark.items]
    started = time.perf_counter()
    rankings = ranker.rank(texts, max(k, *ks))
    seconds = time.perf_counter() - started
    metrics = score_rankings([[skill for skill, _ in r] for r in rankings],
                             [set(item.gold) for item in benchmark.items], ks)
    n = int(metrics.pop("n"))
    metrics.pop("n_without_gold")
    return EvalReport(system=ranker.name, benchmark=benchmark.name, level=benchmark.level,
                      metrics=metrics, n=n, unresolved=benchmark.unresolved,
                      items_without_gold=benchmark.items_without_gold, seconds=seconds,
                      items_per_second=len(texts) / seconds if seconds else float("inf"))
