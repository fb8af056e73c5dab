"""Property-based tests (hypothesis) of the ranking metrics (issue 9, item 2).

The hand-computed cases are in test_metrics.py; here every metric is checked on random
rankings and gold sets drawn from a small alphabet of ids (so rankings hit gold items, miss
them and repeat them), against invariants that follow from the definitions in
``skillmap/evaluation/metrics.py``.
"""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from skillmap.evaluation.metrics import (f1_at_k, hits_at_k, item_metrics, ndcg_at_k,
                                         precision_at_k, recall_at_k, reciprocal_rank, rp_at_k,
                                         score_rankings)

# CI (any value of $CI) replays the same examples every run and keeps no example database.
CI = "CI" in os.environ
PROPERTY = settings(deadline=None, max_examples=150, derandomize=CI, print_blob=CI)

IDS = [f"s{i}" for i in range(12)]
ids = st.sampled_from(IDS)
rankings = st.lists(ids, max_size=20)             # repeats allowed: first occurrence counts
golds = st.sets(ids, max_size=8)
nonempty_golds = st.sets(ids, min_size=1, max_size=8)
ks = st.integers(min_value=1, max_value=15)

K_METRICS = {"RP": rp_at_k, "P": precision_at_k, "R": recall_at_k, "F1": f1_at_k,
             "nDCG": ndcg_at_k, "MRR": reciprocal_rank}


def all_scores(ranking, gold, k):
    return {name: metric(ranking, gold, k) for name, metric in K_METRICS.items()}


def gold_first(ranking, gold):
    """The ranking with its gold items moved ahead of the rest, each part in its order."""
    return [s for s in ranking if s in gold] + [s for s in ranking if s not in gold]


@PROPERTY
@given(rankings, golds, ks)
def test_every_metric_is_in_unit_interval_or_none_exactly_when_gold_is_empty(ranking, gold, k):
    scores = all_scores(ranking, gold, k)
    scores["MRR (whole ranking)"] = reciprocal_rank(ranking, gold)
    for name, value in scores.items():
        if not gold:
            assert value is None, name
        else:
            assert value is not None and 0.0 <= value <= 1.0, (name, value)
    assert (item_metrics(ranking, gold, (k,)) is None) == (not gold)


@PROPERTY
@given(st.lists(ids, unique=True, max_size=12), nonempty_golds, ks, st.randoms())
def test_perfect_ranking_scores_one(extra, gold, k, rnd):
    """Gold items (in any order) first, then anything else: RP@k = MRR = nDCG@k = 1; P@k = 1
    while k <= |gold| and R@k = 1 once k >= |gold|."""
    ranking = rnd.sample(sorted(gold), len(gold)) + [s for s in extra if s not in gold]
    assert rp_at_k(ranking, gold, k) == 1.0
    assert reciprocal_rank(ranking, gold) == 1.0 and reciprocal_rank(ranking, gold, k) == 1.0
    assert ndcg_at_k(ranking, gold, k) == pytest.approx(1.0)
    assert (precision_at_k(ranking, gold, k) == 1.0) == (k <= len(gold))
    assert (recall_at_k(ranking, gold, k) == 1.0) == (k >= len(gold))
    assert f1_at_k(ranking, gold, k) == pytest.approx(
        2 * min(k, len(gold)) / (k + len(gold)))


@PROPERTY
@given(rankings, nonempty_golds, ks, st.randoms())
def test_gold_first_ranking_scores_at_least_any_permutation(ranking, gold, k, rnd):
    """Ranking order is respected: no reordering of the same list beats gold-first."""
    shuffled = rnd.sample(ranking, len(ranking))
    best = all_scores(gold_first(ranking, gold), gold, k)
    other = all_scores(shuffled, gold, k)
    for name in K_METRICS:
        assert best[name] >= other[name], (name, best[name], other[name])


@PROPERTY
@given(rankings, nonempty_golds, ks, st.data())
def test_moving_a_gold_item_up_never_lowers_a_score(ranking, gold, k, data):
    """Swap a gold item with the non-gold item just above it: no metric may drop."""
    swaps = [i for i in range(1, len(ranking))
             if ranking[i] in gold and ranking[i - 1] not in gold]
    assume(swaps)
    i = data.draw(st.sampled_from(swaps))
    moved = [*ranking[:i - 1], ranking[i], ranking[i - 1], *ranking[i + 1:]]
    before, after = all_scores(ranking, gold, k), all_scores(moved, gold, k)
    for name in K_METRICS:
        assert after[name] >= before[name], (name, before[name], after[name])


@PROPERTY
@given(rankings, nonempty_golds, ks, st.data())
def test_replacing_a_miss_by_an_unranked_gold_item_never_lowers_a_score(ranking, gold, k, data):
    misses = [i for i, s in enumerate(ranking) if s not in gold]
    unranked = sorted(gold - set(ranking))
    assume(misses and unranked)
    i = data.draw(st.sampled_from(misses))
    better = [*ranking[:i], data.draw(st.sampled_from(unranked)), *ranking[i + 1:]]
    before, after = all_scores(ranking, gold, k), all_scores(better, gold, k)
    for name in K_METRICS:
        assert after[name] >= before[name], (name, before[name], after[name])


@PROPERTY
@given(rankings, golds, ks)
def test_repeated_ids_count_only_at_their_first_position(ranking, gold, k):
    assert all_scores(ranking, gold, k) == all_scores(list(dict.fromkeys(ranking)), gold, k)


@PROPERTY
@given(st.lists(ids, min_size=1, max_size=20), golds, rankings, st.data())
def test_metrics_at_k_depend_only_on_the_top_k(ranking, gold, tail, data):
    """Whatever follows the first k distinct ids (gold or not) changes no @k metric."""
    distinct = list(dict.fromkeys(ranking))
    k = data.draw(st.integers(1, len(distinct)), label="k")
    assert all_scores(distinct[:k] + tail, gold, k) == all_scores(ranking, gold, k)


@PROPERTY
@given(rankings, nonempty_golds, ks)
def test_metrics_agree_with_their_definitions(ranking, gold, k):
    """RP@k divides the hits by min(k, |gold|), P@k by k (missing positions are misses), R@k
    by |gold|; so RP@k >= max(P@k, R@k); F1@k lies between P@k and R@k; more k never lowers
    hits or R@k; MRR over the top k is at most MRR over the whole ranking."""
    hits = hits_at_k(ranking, gold, k)
    assert 0 <= hits <= min(k, len(gold), len(set(ranking)))
    p, r, rp = (precision_at_k(ranking, gold, k), recall_at_k(ranking, gold, k),
                rp_at_k(ranking, gold, k))
    assert (p, r, rp) == (hits / k, hits / len(gold), hits / min(k, len(gold)))
    assert rp >= max(p, r)
    assert min(p, r) - 1e-12 <= f1_at_k(ranking, gold, k) <= max(p, r) + 1e-12
    assert hits_at_k(ranking, gold, k + 1) >= hits
    assert recall_at_k(ranking, gold, k + 1) >= r
    assert reciprocal_rank(ranking, gold, k) <= reciprocal_rank(ranking, gold)
    first = next((i for i, s in enumerate(dict.fromkeys(ranking), 1) if s in gold), None)
    assert reciprocal_rank(ranking, gold) == (0.0 if first is None else 1 / first)


@PROPERTY
@given(st.lists(st.tuples(rankings, golds), max_size=8), st.lists(ks, min_size=1, max_size=3),
       st.randoms())
def test_score_rankings_averages_items_with_gold_and_ignores_their_order(items, k_list, rnd):
    rankings_, golds_ = [r for r, _ in items], [g for _, g in items]
    averages = score_rankings(rankings_, golds_, k_list)
    scored = [item_metrics(r, g, k_list) for r, g in items if g]
    assert averages["n"] == len(scored)
    assert averages["n"] + averages["n_without_gold"] == len(items)
    metric_names = set(averages) - {"n", "n_without_gold"}
    assert metric_names == (set(scored[0]) if scored else set())
    for name in metric_names:
        assert 0.0 <= averages[name] <= 1.0
        assert averages[name] == pytest.approx(math.fsum(m[name] for m in scored) / len(scored))
    order = rnd.sample(range(len(items)), len(items))
    again = score_rankings([rankings_[i] for i in order], [golds_[i] for i in order], k_list)
    assert again.keys() == averages.keys()
    for name in averages:
        assert again[name] == pytest.approx(averages[name])


@PROPERTY
@given(rankings, golds, st.integers(max_value=0))
def test_a_cutoff_below_one_is_refused(ranking, gold, k):
    """k <= 0 has no meaning (k = 0 divided by zero, k < 0 sliced from the end): ValueError."""
    for name, metric in K_METRICS.items():
        with pytest.raises(ValueError, match="k must be"):
            metric(ranking, gold, k)
    with pytest.raises(ValueError, match="k must be"):
        hits_at_k(ranking, gold, k)
    with pytest.raises(ValueError, match="k must be"):
        score_rankings([ranking], [gold], (5, k))
