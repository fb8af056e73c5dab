"""Ranking metrics for skill extraction (definitions of design §5 and the benchmark README).

Each item is a *ranking* (skill ids, best first) and a *gold* set. Conventions:

- A ranking is read once from the top; a repeated id counts only at its first position.
- ``k`` larger than the ranking: missing positions are misses (P@k still divides by k).
- Empty gold: the recall-type metrics are undefined, so every per-item function returns
  ``None`` and :func:`score_rankings` leaves such items out of the averages (and counts them).
- Ties in scores are the ranker's business: the metrics use the order they are given.
- ``k`` must be a positive whole number; anything else raises ``ValueError`` (k = 0 used to
  divide by zero, and a negative k silently sliced from the end and scored below 0).

RP@k (R-precision at k) = hits in top k / min(k, |gold|), the literature's headline metric
for ESCO extraction, is the one to quote; P@k, R@k, F1@k and nDCG@k are reported beside it.
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable, Sequence

DEFAULT_KS = (5, 10)


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a positive whole number, got {k!r}")
    return k


def _top(ranking: Sequence[str], k: int | None = None) -> list[str]:
    unique = list(dict.fromkeys(ranking))
    return unique if k is None else unique[:_check_k(k)]


def hits_at_k(ranking: Sequence[str], gold: set[str], k: int) -> int:
    return sum(1 for skill in _top(ranking, k) if skill in gold)


def rp_at_k(ranking: Sequence[str], gold: set[str], k: int) -> float | None:
    """R-precision at k: hits in the top k / min(k, |gold|)."""
    _check_k(k)
    if not gold:
        return None
    return hits_at_k(ranking, gold, k) / min(k, len(gold))


def precision_at_k(ranking: Sequence[str], gold: set[str], k: int) -> float | None:
    _check_k(k)
    if not gold:
        return None
    return hits_at_k(ranking, gold, k) / k


def recall_at_k(ranking: Sequence[str], gold: set[str], k: int) -> float | None:
    _check_k(k)
    if not gold:
        return None
    return hits_at_k(ranking, gold, k) / len(gold)


def f1_at_k(ranking: Sequence[str], gold: set[str], k: int) -> float | None:
    _check_k(k)
    if not gold:
        return None
    p, r = precision_at_k(ranking, gold, k), recall_at_k(ranking, gold, k)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def reciprocal_rank(ranking: Sequence[str], gold: set[str], k: int | None = None) -> float | None:
    """1 / position of the first gold skill (0 if none in the top k / whole ranking)."""
    if k is not None:
        _check_k(k)
    if not gold:
        return None
    for position, skill in enumerate(_top(ranking, k), 1):
        if skill in gold:
            return 1.0 / position
    return 0.0


def ndcg_at_k(ranking: Sequence[str], gold: set[str], k: int) -> float | None:
    """Binary-relevance nDCG: DCG of the top k over the DCG of a perfect top k."""
    _check_k(k)
    if not gold:
        return None
    dcg = sum(1.0 / math.log2(i + 1) for i, s in enumerate(_top(ranking, k), 1) if s in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(gold)) + 1))
    return dcg / ideal


def item_metrics(ranking: Sequence[str], gold: set[str], ks: Iterable[int] = DEFAULT_KS
                 ) -> dict[str, float] | None:
    """All metrics of one item, or None when its gold set is empty."""
    ks = tuple(_check_k(k) for k in ks)
    if not gold:
        return None
    scores = {"MRR": reciprocal_rank(ranking, gold)}
    for k in ks:
        scores[f"RP@{k}"] = rp_at_k(ranking, gold, k)
        scores[f"P@{k}"] = precision_at_k(ranking, gold, k)
        scores[f"R@{k}"] = recall_at_k(ranking, gold, k)
        scores[f"F1@{k}"] = f1_at_k(ranking, gold, k)
        scores[f"nDCG@{k}"] = ndcg_at_k(ranking, gold, k)
    return scores


def score_items(rankings: Sequence[Sequence[str]], golds: Sequence[set[str]],
                ks: Iterable[int] = DEFAULT_KS) -> list[dict[str, float] | None]:
    """:func:`item_metrics` of every item, in order (None where the gold set is empty)."""
    if len(rankings) != len(golds):
        raise ValueError(f"{len(rankings)} rankings for {len(golds)} gold sets")
    ks = tuple(_check_k(k) for k in ks)
    return [item_metrics(r, g, ks) for r, g in zip(rankings, golds)]


def score_rankings(rankings: Sequence[Sequence[str]], golds: Sequence[set[str]],
                   ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
    """Macro averages over items with a non-empty gold set, plus ``n`` and ``n_without_gold``."""
    return average_items(score_items(rankings, golds, ks))


def average_items(per_item: Sequence[dict[str, float] | None]) -> dict[str, float]:
    """:func:`score_rankings` from per-item scores already computed (:func:`score_items`)."""
    scored = [m for m in per_item if m is not None]
    averages: dict[str, float] = {}
    if scored:
        for name in scored[0]:
            averages[name] = sum(m[name] for m in scored) / len(scored)
    averages["n"] = len(scored)
    averages["n_without_gold"] = len(per_item) - len(scored)
    return averages
