"""Run a ranker on a benchmark and score it: the one code path behind `skillmap eval` and
the benchmark scripts, so every system is measured the same way."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from skillmap.evaluation.benchmarks import Benchmark
from skillmap.evaluation.metrics import DEFAULT_KS, average_items, score_items
from skillmap.evaluation.rankers import Ranker
from skillmap.evaluation.uncertainty import CONFIDENCE, bootstrap_interval

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
    #: per headline metric, the 95 % bootstrap interval of its average over the items
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: per headline metric, each scored item's value in benchmark order: what a paired
    #: comparison of two systems on the same benchmark needs (uncertainty.paired_difference)
    item_scores: dict[str, list[float]] = field(default_factory=dict)
    confidence: float = CONFIDENCE
    #: gold labels resolved by a near rule (``--near-labels``): label -> the skill's label
    near_resolved: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(ranker: Ranker, benchmark: Benchmark, k: int = 10,
             ks: tuple[int, ...] = DEFAULT_KS) -> EvalReport:
    """Rank every item of ``benchmark`` (top ``k``), average the metrics and bootstrap
    their intervals."""
    if not benchmark.items:
        from skillmap.errors import InputError

        raise InputError(f"{benchmark.name}: no items with gold skills to evaluate")
    texts = [item.text for item in benchmark.items]
    started = time.perf_counter()
    rankings = ranker.rank(texts, max(k, *ks))
    seconds = time.perf_counter() - started
    per_item = score_items([[skill for skill, _ in r] for r in rankings],
                           [set(item.gold) for item in benchmark.items], ks)
    metrics = average_items(per_item)
    n = int(metrics.pop("n"))
    metrics.pop("n_without_gold")
    scored = [m for m in per_item if m is not None]
    item_scores = {name: [m[name] for m in scored] for name in HEADLINE if name in metrics}
    return EvalReport(system=ranker.name, benchmark=benchmark.name, level=benchmark.level,
                      metrics=metrics, n=n, unresolved=benchmark.unresolved,
                      items_without_gold=benchmark.items_without_gold, seconds=seconds,
                      items_per_second=len(texts) / seconds if seconds else float("inf"),
                      intervals={name: bootstrap_interval(values)
                                 for name, values in item_scores.items()},
                      item_scores=item_scores, near_resolved=dict(benchmark.near_resolved))
